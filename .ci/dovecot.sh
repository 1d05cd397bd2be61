#!/usr/bin/env bash
# A private Dovecot IMAP server for the tests (Debian's dovecot-imapd, not the system service):
# it writes DIR/dovecot.conf and serves IMAP on 127.0.0.1:PORT, plain-text login allowed (loopback
# only), every user name accepted with PASSWORD (each test signs in as its own user and so gets its
# own empty INBOX), maildirs under DIR/mail/<user>.
#
#   .ci/dovecot.sh start DIR PORT PASSWORD   start in the background, wait until the port answers
#   .ci/dovecot.sh watch DIR PORT PASSWORD   run in the foreground until standard input closes
#                                            (the test harness holds the pipe: when the test
#                                            process ends, Dovecot ends with it)
#   .ci/dovecot.sh stop DIR                  stop an instance started with `start`
set -euo pipefail

mode=${1:?usage: dovecot.sh start|watch|stop DIR [PORT PASSWORD]}
dir=${2:?directory missing}

dovecot_bin=$(command -v dovecot || true)
[ -n "$dovecot_bin" ] || dovecot_bin=/usr/sbin/dovecot
if [ ! -x "$dovecot_bin" ]; then
  echo "dovecot not found: install it with 'apt-get install dovecot-imapd'" >&2
  exit 3
fi

if [ "$mode" = stop ]; then
  "$dovecot_bin" -c "$dir/dovecot.conf" stop 2>/dev/null || true
  exit 0
fi

port=${3:?port missing}
password=${4:?password missing}

mkdir -p "$dir/run" "$dir/state" "$dir/mail" "$dir/home"
if [ "$(id -u)" = 0 ]; then
  # Dovecot never delivers mail as root: the mailboxes belong to `nobody`; its own processes use
  # the users the Debian package created.
  mail_user=nobody
  mail_group=$(id -gn nobody)
  internal_user=dovecot
  login_user=dovenull
  chown "$mail_user:$mail_group" "$dir/mail" "$dir/home"
  chmod 0755 "$dir" "$dir/run" "$dir/state"
else
  mail_user=$(id -un)
  mail_group=$(id -gn)
  internal_user=$mail_user
  login_user=$mail_user
fi
uid=$(id -u "$mail_user")
gid=$(getent group "$mail_group" | cut -d: -f3)

cat > "$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
instance_name = opencontact-test-$port
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = $internal_user
default_internal_group = $(id -gn "$internal_user")
default_login_user = $login_user
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:$dir/mail/%u
mail_uid = $uid
mail_gid = $gid
passdb {
  driver = static
  args = password=$password
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$dir/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service imap {
  process_limit = 200
}
CONF

wait_for_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "dovecot did not start on port $port; its log:" >&2
  cat "$dir/dovecot.log" >&2 || true
  return 1
}

case "$mode" in
  start)
    "$dovecot_bin" -c "$dir/dovecot.conf"
    wait_for_port
    ;;
  watch)
    "$dovecot_bin" -F -c "$dir/dovecot.conf" &
    pid=$!
    trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
    wait_for_port
    echo "ready"
    cat >/dev/null || true
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
