DROP TABLE api_replay_guard;
DROP TABLE mail_representatives;
