//! The command line, parsed by hand: two subcommands and three flags do not need a parser crate.
//!
//! Every mistake is a [`UsageError`], one line that `main` prints before exiting with status 2;
//! nothing here panics on any input, non-UTF-8 included. Nothing is checked against Redis here:
//! the URL is parsed by the Redis client when connecting.

use std::ffi::OsString;
use std::fmt;
use std::time::Duration;

use crate::duration;

pub const USAGE: &str = "\
usage: cancel-token-redis trigger <id> [--reason TEXT] [--url URL]
           trigger <id> everywhere (the first reason wins; default reason: \"triggered by cancel-token-redis\")
       cancel-token-redis wait <id> [--timeout DURATION] [--url URL]
           wait until <id> is triggered (or was already) and print its reason on stdout
       cancel-token-redis --help

DURATION: a whole number and a unit: 500ms, 30s, 2m, 1h (0s: look once, do not wait).
URL: redis://host:port/db; default $CANCEL_TOKEN_REDIS_URL if set and not empty, else redis://127.0.0.1:6379.
Flags may come before or after <id>, as --flag VALUE or --flag=VALUE; after --, <id> may start with '-'.
Exit status: 0 triggered (wait) or done (trigger); 124 the --timeout passed first;
             2 a bad command line, or Redis unreachable or failing; 1 the reason could not be written to stdout.";

/// Where to connect when neither `--url` nor the environment says.
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// The environment variable read when `--url` is not given.
pub const URL_VARIABLE: &str = "CANCEL_TOKEN_REDIS_URL";

/// The reason `trigger` stores without `--reason`.
pub const DEFAULT_REASON: &str = "triggered by cancel-token-redis";

/// What to run.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    Trigger {
        id: String,
        reason: String,
        url: String,
    },
    Wait {
        id: String,
        /// `None`: wait for as long as it takes.
        timeout: Option<Duration>,
        url: String,
    },
}

/// A bad command line, as one line of text.
#[derive(Debug)]
pub struct UsageError(String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (try --help)", self.0)
    }
}

fn usage_error(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

fn utf8(arg: OsString, what: &str) -> Result<String, UsageError> {
    arg.into_string()
        .map_err(|arg| usage_error(format!("{what} is not valid UTF-8: {arg:?}")))
}

/// Parses the arguments after the program name; `env_url` is the value of [`URL_VARIABLE`].
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env_url: Option<OsString>,
) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let Some(subcommand) = args.next() else {
        return Err(usage_error("missing a subcommand: trigger or wait"));
    };
    let subcommand = utf8(subcommand, "the subcommand")?;
    let waits = match subcommand.as_str() {
        "-h" | "--help" => return Ok(Command::Help),
        "trigger" => false,
        "wait" => true,
        other => {
            return Err(usage_error(format!(
                "unknown subcommand {other:?}: expected trigger or wait"
            )));
        }
    };

    let mut id = None;
    let mut reason = None;
    let mut timeout = None;
    let mut url = None;
    let mut flags_ended = false;
    while let Some(arg) = args.next() {
        let arg = utf8(arg, "an argument")?;
        if flags_ended || !arg.starts_with('-') || arg == "-" {
            if id.replace(arg).is_some() {
                return Err(usage_error(format!("{subcommand} takes one <id>")));
            }
            continue;
        }
        if arg == "--" {
            flags_ended = true;
            continue;
        }
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        let slot = match (flag.as_str(), waits) {
            ("--url", _) => &mut url,
            ("--reason", false) => &mut reason,
            ("--timeout", true) => &mut timeout,
            ("--reason" | "--timeout", _) => {
                return Err(usage_error(format!("{subcommand} takes no {flag}")));
            }
            (other, _) => return Err(usage_error(format!("unknown flag {other}"))),
        };
        let value = match inline {
            Some(value) => value,
            None => {
                let value = args
                    .next()
                    .ok_or_else(|| usage_error(format!("{flag} needs a value")))?;
                utf8(value, &format!("the value of {flag}"))?
            }
        };
        if slot.replace(value).is_some() {
            return Err(usage_error(format!("{flag} given twice")));
        }
    }

    let id = match id {
        None => return Err(usage_error(format!("{subcommand} needs an <id>"))),
        Some(id) if id.is_empty() => return Err(usage_error("the <id> is empty")),
        Some(id) => id,
    };
    let url = match (url, env_url) {
        (Some(url), _) => url,
        (None, Some(env)) if !env.is_empty() => utf8(env, &format!("${URL_VARIABLE}"))?,
        (None, _) => DEFAULT_URL.to_owned(),
    };
    if waits {
        let timeout = timeout
            .map(|text| duration::parse(&text))
            .transpose()
            .map_err(|why| usage_error(format!("--timeout: {why}")))?;
        Ok(Command::Wait { id, timeout, url })
    } else {
        let reason = reason.unwrap_or_else(|| DEFAULT_REASON.to_owned());
        Ok(Command::Trigger { id, reason, url })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(OsString::from), None).map_err(|error| error.to_string())
    }

    #[test]
    fn trigger_with_defaults_and_flags_anywhere() {
        assert_eq!(
            parsed(&["trigger", "42"]),
            Ok(Command::Trigger {
                id: "42".into(),
                reason: DEFAULT_REASON.into(),
                url: DEFAULT_URL.into(),
            })
        );
        assert_eq!(
            parsed(&["trigger", "--reason=user", "42", "--url", "redis://h:1"]),
            Ok(Command::Trigger {
                id: "42".into(),
                reason: "user".into(),
                url: "redis://h:1".into(),
            })
        );
    }

    #[test]
    fn wait_with_a_timeout_and_an_id_after_double_dash() {
        assert_eq!(
            parsed(&["wait", "--timeout", "500ms", "--", "-7"]),
            Ok(Command::Wait {
                id: "-7".into(),
                timeout: Some(Duration::from_millis(500)),
                url: DEFAULT_URL.into(),
            })
        );
    }

    #[test]
    fn the_url_comes_from_the_flag_then_the_environment_then_the_default() {
        let env = |value: &str| Some(OsString::from(value));
        let url = |args: &[&str], env_url| match parse(args.iter().map(OsString::from), env_url) {
            Ok(Command::Wait { url, .. }) => url,
            other => panic!("{other:?}"),
        };
        assert_eq!(url(&["wait", "1"], env("redis://env:1")), "redis://env:1");
        assert_eq!(
            url(&["wait", "1", "--url=redis://f:2"], env("redis://env:1")),
            "redis://f:2"
        );
        assert_eq!(url(&["wait", "1"], env("")), DEFAULT_URL);
    }

    #[test]
    fn help_anywhere() {
        assert_eq!(parsed(&["--help"]), Ok(Command::Help));
        assert_eq!(parsed(&["wait", "-h"]), Ok(Command::Help));
    }

    #[test]
    fn mistakes_are_one_line_errors() {
        for args in [
            &[][..],
            &["cancel"],
            &["trigger"],
            &["wait", ""],
            &["wait", "1", "2"],
            &["wait", "1", "--timeout", "5"],
            &["wait", "1", "--timeout"],
            &["wait", "1", "--reason", "x"],
            &["trigger", "1", "--timeout", "1s"],
            &["trigger", "1", "--verbose"],
            &["trigger", "1", "--url", "a", "--url", "b"],
        ] {
            match parsed(args) {
                Err(message) => assert!(!message.contains('\n'), "{args:?}: {message}"),
                Ok(command) => panic!("{args:?} was accepted as {command:?}"),
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_is_an_error_not_a_panic() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0xff, b'1']);
        let args = [OsString::from("wait"), bad];
        assert!(parse(args, None).is_err());
    }
}
