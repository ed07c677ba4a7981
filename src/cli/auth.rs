//! `rapport keys create|list|revoke|rotate` and `rapport users
//! add|passwd|disable|list`, the server's local CLI token, and the
//! credential every CLI call to a running server sends.
//!
//! While a server holds the store's lock, `keys` and `users` go through its
//! `/v1/keys` and `/v1/users`
//! with the local token it wrote into `data_dir/server.token` (readable by
//! its owner only), or with `RAPPORT_KEY`; with no server it opens the
//! store. It must never print a secret except the one new key or link it
//! was asked for, and never take a password from the command line (stdin
//! only, so it stays out of shell history and `ps`). A change made on the
//! store is audited (`console_audit`), as the API audits one over HTTP.

use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde_json::{Value, json};

use rapport::auth::{Roles, parse_expiry, secrets};
use rapport::config::Config;
use rapport::engine::{DataDir, Offline};

use super::console_audit;

/// Where a server writes its local CLI token.
const LOCAL_TOKEN_FILE: &str = "server.token";

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key; its secret is printed once.
    Create {
        #[arg(long)]
        name: String,
        /// viewer, staff, analyst, steward, admin or a role of rapport.toml.
        #[arg(long)]
        role: String,
        /// Lifetime such as 90d or 12h (default: no expiry).
        #[arg(long)]
        expires: Option<String>,
        /// Row-level scope, FIELD=VALUE as filter.FIELD takes it (a list
        /// `JP,DE`, a range `100..500`); repeat for several fields. The
        /// key's searches, suggestions and exports see only matching
        /// records; customer pages outside it answer 404.
        #[arg(long = "scope", value_name = "FIELD=VALUE")]
        scopes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List keys (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id.
    Revoke { id: String },
    /// Revoke a key and print a new one with the same name, role and lifetime.
    Rotate {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a staff user; the password is read from stdin (one line).
    Add {
        name: String,
        #[arg(long)]
        role: String,
        /// Row-level scope, FIELD=VALUE as for `keys create --scope`.
        #[arg(long = "scope", value_name = "FIELD=VALUE")]
        scopes: Vec<String>,
        /// No password: the user signs in only through the single sign-on
        /// proxy (`[auth] trusted_header`).
        #[arg(long)]
        sso: bool,
    },
    /// Set a user's password, read from stdin (one line).
    Passwd { name: String },
    /// Stop a user from signing in.
    Disable { name: String },
    /// Let a disabled user sign in again.
    Enable { name: String },
    /// Print a one-time sign-in link for a user (onboarding, a forgotten
    /// password); it works once, until it expires, across restarts.
    Link {
        name: String,
        /// How long it stays valid: `30m`, `24h`, at most `7d`.
        #[arg(long, default_value = "15m")]
        valid: String,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

/// The key a CLI sends to a running server: `RAPPORT_KEY`, else the
/// server's local token.
pub fn client_key(config: &Config) -> Option<String> {
    if let Ok(key) = std::env::var("RAPPORT_KEY")
        && !key.trim().is_empty()
    {
        return Some(key.trim().to_string());
    }
    std::fs::read_to_string(config.data_dir.join(LOCAL_TOKEN_FILE))
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// An HTTP client that sends [`client_key`] with every request. When the
/// server speaks TLS (`[server] tls_cert`), the CLI talks to it on this
/// machine's loopback address, where the certificate's names cannot match:
/// it then skips the certificate check, and only for loopback hosts (the
/// local token already proves it runs beside the server).
pub fn client_builder(config: &Config, url: &str) -> Result<reqwest::ClientBuilder> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(key) = client_key(config) {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
            .context("RAPPORT_KEY holds characters a header cannot carry")?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    let builder = reqwest::Client::builder().default_headers(headers);
    if config.server.tls_cert.is_none() || !is_loopback(url) {
        return Ok(builder);
    }
    // A redirect could take the unchecked connection off this machine.
    Ok(builder
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(true))
}

/// True for a URL on this machine's loopback interface.
fn is_loopback(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A fresh local token for this server run, written for the owner only.
pub fn write_local_token(data_dir: &Path) -> Result<String> {
    let token = secrets::token()?;
    let path = data_dir.join(LOCAL_TOKEN_FILE);
    let part = data_dir.join(".server.token.part");
    let _ = std::fs::remove_file(&part);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&part)
        .with_context(|| format!("writing {}", part.display()))?;
    std::io::Write::write_all(&mut file, token.as_bytes())?;
    drop(file);
    std::fs::rename(&part, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(token)
}

enum Place {
    Local(Offline),
    Server(String),
}

fn place(config: &Config) -> Result<Place> {
    match DataDir::open(config)? {
        DataDir::Free(offline) => Ok(Place::Local(offline)),
        DataDir::HeldByServer => Ok(Place::Server(crate::cli::export::server_base(config)?)),
    }
}

fn roles(config: &Config) -> Result<Roles> {
    config.auth.roles().map_err(anyhow::Error::msg)
}

/// Sends a request to the server and returns its JSON, or its error.
fn call(
    config: &Config,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Result<Value> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = client_builder(config, &url)?.build()?;
        let mut request = client.request(method, &url);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("asking the server at {url}"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let message = answer["error"]["message"].as_str().unwrap_or("no message");
            bail!("the server answered {status}: {message}");
        }
        Ok(answer)
    })
}

fn print_new_key(answer: &Value, json: bool) {
    if json {
        println!("{answer}");
        return;
    }
    println!(
        "key {} ({}, role {}){}",
        answer["id"].as_str().unwrap_or_default(),
        answer["name"].as_str().unwrap_or_default(),
        answer["role"].as_str().unwrap_or_default(),
        answer["expires"]
            .as_str()
            .map(|e| format!(", expires {e}"))
            .unwrap_or_default()
    );
    println!("{}", answer["secret"].as_str().unwrap_or_default());
    eprintln!("this secret is shown once: keep it; send it as `Authorization: Bearer <key>`");
}

/// `--scope FIELD=VALUE` arguments as a checked scope.
fn scope_arguments(scopes: &[String]) -> Result<std::collections::BTreeMap<String, String>> {
    let mut scope = std::collections::BTreeMap::new();
    for s in scopes {
        let (field, value) = s
            .split_once('=')
            .with_context(|| format!("--scope `{s}`: expected FIELD=VALUE"))?;
        scope.insert(field.trim().to_string(), value.to_string());
    }
    rapport::engine::parse_scope(&scope).map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
    Ok(scope)
}

pub fn keys(config: Option<&Path>, command: KeysCommand) -> Result<()> {
    let config = Config::load(config)?;
    let place = place(&config)?;
    match command {
        KeysCommand::Create {
            name,
            role,
            expires,
            scopes,
            json,
        } => {
            let scope = scope_arguments(&scopes)?;
            let answer = match &place {
                Place::Local(local) => {
                    let lifetime = expires.as_deref().map(parse_expiry).transpose()?;
                    let key = local.identities().create_key(
                        &roles(&config)?,
                        &name,
                        &role,
                        lifetime,
                        scope.clone(),
                    )?;
                    console_audit::record(local, "key.create", &key.key.id)?;
                    json!(key)
                }
                Place::Server(base) => call(
                    &config,
                    reqwest::Method::POST,
                    format!("{base}/v1/keys"),
                    Some(json!({ "name": name, "role": role, "expires": expires, "scope": scope })),
                )?,
            };
            print_new_key(&answer, json);
        }
        KeysCommand::List { json } => {
            let list = match &place {
                Place::Local(local) => json!(local.identities().keys()?),
                Place::Server(base) => call(
                    &config,
                    reqwest::Method::GET,
                    format!("{base}/v1/keys"),
                    None,
                )?["keys"]
                    .take(),
            };
            if json {
                println!("{list}");
            } else {
                for k in list.as_array().into_iter().flatten() {
                    let state = if !k["revoked"].is_null() {
                        "revoked".to_string()
                    } else {
                        k["expires"]
                            .as_str()
                            .map_or("active".into(), |e| format!("expires {e}"))
                    };
                    println!(
                        "{}\t{}\t{}\t{}",
                        k["id"].as_str().unwrap_or_default(),
                        k["name"].as_str().unwrap_or_default(),
                        k["role"].as_str().unwrap_or_default(),
                        state
                    );
                }
            }
        }
        KeysCommand::Revoke { id } => {
            match &place {
                Place::Local(local) => {
                    local.identities().revoke_key(&id)?;
                    console_audit::record(local, "key.revoke", &id)?;
                }
                Place::Server(base) => {
                    call(
                        &config,
                        reqwest::Method::DELETE,
                        format!("{base}/v1/keys/{id}"),
                        None,
                    )?;
                }
            }
            println!("key {id} revoked");
        }
        KeysCommand::Rotate { id, json } => {
            let answer = match &place {
                Place::Local(local) => {
                    let key = local.identities().rotate_key(&roles(&config)?, &id)?;
                    console_audit::record(local, "key.rotate", &id)?;
                    json!(key)
                }
                Place::Server(base) => call(
                    &config,
                    reqwest::Method::POST,
                    format!("{base}/v1/keys/{id}/rotate"),
                    None,
                )?,
            };
            print_new_key(&answer, json);
        }
    }
    Ok(())
}

fn read_password() -> Result<String> {
    eprintln!("password (one line on stdin):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub fn users(config: Option<&Path>, command: UsersCommand) -> Result<()> {
    let config = Config::load(config)?;
    match place(&config)? {
        Place::Local(local) => users_local(&config, &local, command),
        Place::Server(base) => users_over_http(&config, &base, command),
    }
}

fn users_local(config: &Config, local: &Offline, command: UsersCommand) -> Result<()> {
    match command {
        UsersCommand::Add {
            name,
            role,
            scopes,
            sso,
        } => {
            let scope = scope_arguments(&scopes)?;
            let password = if sso { None } else { Some(read_password()?) };
            let user = local.identities().add_user(
                &roles(config)?,
                &name,
                &role,
                password.as_deref(),
                scope,
            )?;
            console_audit::record(local, "user.create", &user.name)?;
            println!("user {} added (role {})", user.name, user.role);
        }
        UsersCommand::Passwd { name } => {
            let password = read_password()?;
            local.identities().set_password(&name, &password)?;
            console_audit::record(local, "user.update", &name)?;
            println!("password of {name} changed");
        }
        UsersCommand::Disable { name } => {
            local.identities().set_disabled(&name, true)?;
            console_audit::record(local, "user.update", &name)?;
            println!("user {name} disabled");
        }
        UsersCommand::Enable { name } => {
            local.identities().set_disabled(&name, false)?;
            console_audit::record(local, "user.update", &name)?;
            println!("user {name} enabled");
        }
        UsersCommand::Link { name, valid } => {
            let lifetime = parse_expiry(&valid)?.to_std()?;
            let link = local.identities().sign_in_link(&name, lifetime)?;
            console_audit::record(local, "user.sign_in_link", &name)?;
            let scheme = if config.server.tls_cert.is_some() {
                "https"
            } else {
                "http"
            };
            print_link(
                &format!("{scheme}://{}", config.listen),
                &link.token,
                &link.expires.to_rfc3339(),
                &name,
            );
        }
        UsersCommand::List { json } => {
            print_users(&serde_json::to_value(local.identities().users()?)?, json)
        }
    }
    Ok(())
}

/// Prints a sign-in link: the token goes after `#signin=` on the web page.
fn print_link(base: &str, token: &str, expires: &str, name: &str) {
    println!("{base}/#signin={token}");
    eprintln!("one-time sign-in link for {name}, valid until {expires}: it works once");
}

/// The same commands through the running server's `/v1/users`.
fn users_over_http(config: &Config, base: &str, command: UsersCommand) -> Result<()> {
    let change = |name: &str, body: Value| {
        call(
            config,
            reqwest::Method::PATCH,
            format!("{base}/v1/users/{name}"),
            Some(body),
        )
    };
    match command {
        UsersCommand::Add {
            name,
            role,
            scopes,
            sso,
        } => {
            let scope = scope_arguments(&scopes)?;
            let mut body = json!({ "name": name, "role": role, "scope": scope });
            if sso {
                body["sso"] = json!(true);
            } else {
                body["password"] = json!(read_password()?);
            }
            let user = call(
                config,
                reqwest::Method::POST,
                format!("{base}/v1/users"),
                Some(body),
            )?;
            println!(
                "user {} added (role {})",
                user["name"].as_str().unwrap_or_default(),
                user["role"].as_str().unwrap_or_default()
            );
        }
        UsersCommand::Passwd { name } => {
            change(&name, json!({ "password": read_password()? }))?;
            println!("password of {name} changed");
        }
        UsersCommand::Disable { name } => {
            change(&name, json!({ "disabled": true }))?;
            println!("user {name} disabled");
        }
        UsersCommand::Enable { name } => {
            change(&name, json!({ "disabled": false }))?;
            println!("user {name} enabled");
        }
        UsersCommand::Link { name, valid } => {
            let answer = call(
                config,
                reqwest::Method::POST,
                format!("{base}/v1/users/{name}/sign-in-link"),
                Some(json!({ "valid": valid })),
            )?;
            print_link(
                base,
                answer["token"].as_str().unwrap_or_default(),
                answer["expires"].as_str().unwrap_or_default(),
                &name,
            );
        }
        UsersCommand::List { json } => {
            let answer = call(
                config,
                reqwest::Method::GET,
                format!("{base}/v1/users"),
                None,
            )?;
            print_users(&answer["users"], json);
        }
    }
    Ok(())
}

fn print_users(list: &Value, json: bool) {
    if json {
        println!("{list}");
        return;
    }
    for u in list.as_array().into_iter().flatten() {
        println!(
            "{}\t{}\t{}",
            u["name"].as_str().unwrap_or_default(),
            u["role"].as_str().unwrap_or_default(),
            if u["disabled"].as_bool().unwrap_or(false) {
                "disabled"
            } else {
                "active"
            }
        );
    }
}
