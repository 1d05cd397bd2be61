//! The command line (ARCHITECTURE §2): `serve`, `migrate`, `setup`, `admin create`, `org id`,
//! `org key`, `service openapi enable`, `bench seed`. Passwords are read from standard input,
//! never flags.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::db::refuse;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::tenancy::organization::{Organization, SetupInput};
use crate::tenancy::service::Service;
use crate::tenancy::user::{NewUser, User, validate_new_member, validate_password};
use crate::web::FormErrors;
use crate::{AppState, Config};

/// OpenContact: a self-hosted customer-service platform in one binary.
#[derive(Debug, Parser)]
#[command(name = "opencontact", version, about)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// Database URL: sqlite://PATH or postgres://USER:PASS@HOST/DB
    #[arg(long, global = true, env = "OPENCONTACT_DATABASE_URL")]
    database_url: Option<String>,
    /// Address to listen on
    #[arg(long, global = true, env = "OPENCONTACT_BIND")]
    bind: Option<String>,
    /// Directory for the SQLite file, the secret key and uploads
    #[arg(long, global = true, env = "OPENCONTACT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Public base URL used in mails and links
    #[arg(long, global = true, env = "OPENCONTACT_BASE_URL")]
    base_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations, then serve HTTP
    Serve,
    /// Apply pending migrations and exit
    Migrate,
    /// Create the organization, its first administrator and first service (like /setup)
    Setup(SetupArgs),
    /// Manage administrators
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print organization identifiers
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Manage services
    Service {
        #[command(subcommand)]
        command: ServiceCommand,
    },
    /// Benchmark helpers
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Fill a service with realistic tickets, customers, entries and field values (adds agents
    /// `bench-agent-N` and groups `Bench group N`; for benchmark databases)
    Seed {
        /// The service ID
        #[arg(long)]
        service: String,
        /// Tickets to add
        #[arg(long, default_value_t = 100_000)]
        tickets: usize,
        /// Agents in the pool
        #[arg(long, default_value_t = 40)]
        agents: usize,
        /// Groups
        #[arg(long, default_value_t = 8)]
        groups: usize,
        /// Customers to add (default: a third of the tickets)
        #[arg(long)]
        customers: Option<usize>,
        /// Days the tickets spread over, ending now
        #[arg(long, default_value_t = 730)]
        days: i64,
        /// Random seed
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[derive(Debug, Args)]
struct SetupArgs {
    /// Organization name
    #[arg(long)]
    org_name: String,
    /// First service's ID (ASCII letters, used in URLs, immutable)
    #[arg(long)]
    service_id: String,
    /// First service's name
    #[arg(long)]
    service_name: String,
    /// Administrator login ID
    #[arg(long)]
    admin_login: String,
    /// Administrator name
    #[arg(long)]
    admin_name: String,
    /// Administrator e-mail
    #[arg(long)]
    admin_email: String,
    /// Read the administrator password from standard input
    #[arg(long, required = true)]
    password_stdin: bool,
    /// Language of the administrator and the service's help center (ko, en, ja)
    #[arg(long, default_value = "ko")]
    language: String,
    /// Service time zone (IANA name)
    #[arg(long, default_value = "Asia/Seoul")]
    timezone: String,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an organization administrator
    Create {
        /// Login ID
        #[arg(long)]
        login: String,
        /// Name
        #[arg(long)]
        name: String,
        /// E-mail
        #[arg(long)]
        email: String,
        /// Read the password from standard input
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Print the organization ID used in Open API signatures
    Id,
    /// Print the organization key (member tokens, org-level API signatures)
    Key,
}

#[derive(Debug, Subcommand)]
enum ServiceCommand {
    /// Open API settings
    Openapi {
        #[command(subcommand)]
        command: OpenapiCommand,
    },
}

#[derive(Debug, Subcommand)]
enum OpenapiCommand {
    /// Turn the Open API on for a service and print its service key
    Enable {
        /// The service ID
        service_id: String,
    },
}

fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let p = s.trim_end_matches(['\r', '\n']).to_string();
    if p.is_empty() {
        bail!("no password on standard input");
    }
    Ok(p)
}

fn errors_to_anyhow(errors: &FormErrors) -> anyhow::Error {
    anyhow::anyhow!(errors.all().join("\n"))
}

fn app_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::Forbidden(key) | AppError::BadRequest(key) => {
            anyhow::anyhow!(crate::i18n::t(Lang::En, key))
        }
        other => anyhow::anyhow!(other.to_string()),
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let g = cli.global;
    let config = Config::resolve(g.database_url, g.bind, g.data_dir, g.base_url);
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let state = AppState::open(config)?;
            println!("migrations applied ({})", state.db.backend().name());
            Ok(())
        }
        Command::Setup(args) => {
            let password = read_password()?;
            let state = AppState::open(config)?;
            let input = SetupInput {
                org_name: args.org_name,
                service_id: args.service_id,
                service_name: args.service_name,
                admin_login: args.admin_login,
                admin_name: args.admin_name,
                admin_email: args.admin_email,
                password: password.clone(),
                password_confirm: password,
                language: args.language,
                timezone: args.timezone,
            };
            let secret = state.secret.clone();
            let out = state
                .db
                .write_blocking(|c| {
                    crate::tenancy::organization::run_setup(c, &secret, &input, Lang::En)
                })
                .map_err(app_error)?;
            match out {
                Ok(_) => {
                    println!(
                        "organization created; sign in as {} at {}/login",
                        input.admin_login, state.config.base_url
                    );
                    Ok(())
                }
                Err(errors) => Err(errors_to_anyhow(&FormErrors::translate(Lang::En, &errors))),
            }
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    login,
                    name,
                    email,
                    password_stdin: _,
                },
        } => {
            let password = read_password()?;
            let state = AppState::open(config)?;
            let out = state.db.write_or_refuse_blocking(|c| {
                if Organization::find(c)?.is_none() {
                    return Err(AppError::Forbidden("cli.setup_first").into());
                }
                let mut errors = FormErrors::new(Lang::En);
                validate_new_member(c, &mut errors, &login, &name, &email)?;
                validate_password(
                    &mut errors,
                    "password",
                    &password,
                    "password",
                    &password,
                    &login,
                );
                if !errors.is_empty() {
                    return refuse(errors);
                }
                let id = User::create(
                    c,
                    &NewUser {
                        login: login.clone(),
                        name: name.clone(),
                        email: email.clone(),
                        ui_lang: Lang::Ko,
                        password: Some(password.clone()),
                        is_org_admin: true,
                    },
                )?;
                Ok(id)
            });
            match out.map_err(app_error)? {
                Ok(_) => {
                    println!("organization administrator {login} created");
                    Ok(())
                }
                Err(errors) => Err(errors_to_anyhow(&errors)),
            }
        }
        Command::Org { command } => {
            let state = AppState::open(config)?;
            let org = state
                .db
                .write_blocking(|c| Ok(Organization::find(c)?))
                .map_err(app_error)?
                .context("no organization yet: run `opencontact setup` or open /setup")?;
            match command {
                OrgCommand::Id => println!("{}", org.org_uid),
                OrgCommand::Key => println!("{}", org.org_key(&state.secret).map_err(app_error)?),
            }
            Ok(())
        }
        Command::Service {
            command:
                ServiceCommand::Openapi {
                    command: OpenapiCommand::Enable { service_id },
                },
        } => {
            let state = AppState::open(config)?;
            let secret = state.secret.clone();
            let key = state
                .db
                .write_blocking(|c| {
                    let service =
                        Service::find_by_code(c, &service_id)?.ok_or(AppError::NotFound)?;
                    Service::enable_open_api(c, &secret, service.id)
                })
                .map_err(|e| match e {
                    AppError::NotFound => anyhow::anyhow!("no service with ID {service_id:?}"),
                    other => app_error(other),
                })?;
            println!("{key}");
            Ok(())
        }
        Command::Bench {
            command:
                BenchCommand::Seed {
                    service,
                    tickets,
                    agents,
                    groups,
                    customers,
                    days,
                    seed,
                },
        } => {
            let state = AppState::open(config)?;
            let opts = crate::tickets::console::seed::SeedOptions {
                tickets,
                agents,
                groups,
                customers,
                days,
                seed,
            };
            let report = crate::tickets::console::seed::seed(&state.db, &service, &opts, |n| {
                eprint!("\r{n} / {tickets} tickets");
            })
            .map_err(|e| match e {
                AppError::NotFound => anyhow::anyhow!("no service with ID {service:?}"),
                other => app_error(other),
            })?;
            eprintln!();
            println!(
                "added {} tickets, {} customers, {} entries, {} field values for {} agents in {:.1?}",
                report.tickets,
                report.customers,
                report.entries,
                report.field_values,
                report.agents,
                report.elapsed
            );
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let bind = config.bind.clone();
    let state = AppState::open(config)?;
    let needs_setup = state
        .db
        .write_blocking(|c| Ok(crate::tenancy::organization::needs_setup(c)?))
        .map_err(app_error)?;
    let base = state.config.base_url.clone();
    tracing::info!(database = state.db.backend().name(), %bind, "OpenContact starting");
    if needs_setup {
        println!("OpenContact is running: open {base}/setup to create your organization");
    } else {
        println!("OpenContact is running: open {base}/");
    }
    let data = actix_web::web::Data::new(state);
    let _jobs = crate::jobs::Supervisor::start(data.clone()).map_err(app_error)?;
    actix_web::HttpServer::new(move || crate::app(data.clone()))
        .bind(&bind)
        .with_context(|| format!("cannot listen on {bind}"))?
        .run()
        .await?;
    Ok(())
}
