//! `overens-examples [--check] [--dir DIR]`: regenerate (or check) events/examples.

use std::path::PathBuf;
use std::process::ExitCode;

use overens_examples::{Error, Generated, SOURCE_FILE, default_dir, generate};

const USAGE: &str = "\
usage: overens-examples [--check] [--dir DIR]

Reads DIR/history.toml and writes DIR/log.jsonl and DIR/keys/ (test keys).
  --check     compare with the files in DIR instead of writing; exit 1 if anything differs
  --dir DIR   the examples directory (default: events/examples of this workspace)";

struct Args {
    check: bool,
    dir: PathBuf,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut check = false;
    let mut dir = default_dir();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--dir" => dir = args.next().ok_or("--dir needs a directory")?.into(),
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(Args { check, dir }))
}

fn run(args: &Args) -> Result<bool, Error> {
    let path = args.dir.join(SOURCE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    let generated = generate(&text)?;
    if args.check {
        let differences = generated.check(&args.dir)?;
        for difference in &differences {
            eprintln!("{}: {difference}", args.dir.display());
        }
        if !differences.is_empty() {
            eprintln!(
                "the example files are not what {SOURCE_FILE} generates; run \
                 `cargo run -p overens-examples` to regenerate them"
            );
            return Ok(false);
        }
        println!("{} is up to date", args.dir.display());
    } else {
        generated.write(&args.dir)?;
        println!("wrote {}", args.dir.display());
    }
    summary(&generated);
    Ok(true)
}

fn summary(generated: &Generated) {
    let total: usize = generated.streams.iter().map(|s| s.events).sum();
    println!("{total} events");
    for count in &generated.streams {
        println!("  {:>4}  {}", count.events, count.stream);
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("overens-examples: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("overens-examples: {e}");
            ExitCode::FAILURE
        }
    }
}
