"""The ``esafety`` command: a thin layer over build, check, new and serve.

Exit codes: 0 success, 1 build failure, 2 invalid input or usage.
Users see one line per problem; ``-v`` adds the traceback.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from .errors import ConfigError, EsafetyError, UsageError

log = logging.getLogger("generator")

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=Path("school_config.yaml"),
    show_default=True,
    help="The school's config file.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show details, and tracebacks on errors.")
@click.version_option(package_name="esafety-pack")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Build a UK school's online-safety pack (website and PDFs) from school_config.yaml."""
    ctx.obj = {"verbose": verbose}
    logging.basicConfig(format="%(message)s", level=logging.INFO if verbose else logging.WARNING)


@cli.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--config",
    "config_paths",
    type=click.Path(path_type=Path),
    multiple=True,
    help="A school's config file (repeat for several; default: school_config.yaml).",
)
@click.option(
    "--site-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the site (default: site/ beside the config). With several "
    "schools, each goes into a folder of its own inside it.",
)
@click.option(
    "--engine",
    type=click.Choice(["mkdocs", "zensical"]),
    default="mkdocs",
    show_default=True,
    help="Static site engine for the web pages.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="PDFs rendered at once (default: one per CPU core; 1 renders them in this process).",
)
def build(
    sources: tuple[Path, ...],
    config_paths: tuple[Path, ...],
    site_dir: Path | None,
    engine: str,
    workers: int | None,
) -> None:
    """Build the website and PDFs, for one school or many.

    SOURCES may be config files or folders of them: a folder's schools are each
    subfolder's school_config.yaml and the .yaml files in it (a file that others name in
    `extends:` is shared defaults, not a school). Schools share one pool of PDF workers;
    one school's error does not stop the others.

    \b
    Example:
        esafety build --config school_config.yaml --site-dir site
        esafety build trust/        (every school in the trust's folder)
    """
    from .workers import start_workers

    if workers != 1:
        start_workers(workers)  # WeasyPrint loads in the PDF workers' server while we compose
    from .build import build_many, find_jobs

    jobs = find_jobs([*config_paths, *sources] or [Path("school_config.yaml")], site_dir)
    outcomes = build_many(jobs, engine=engine, workers=workers)
    failures = [o for o in outcomes if o.error]
    for outcome in outcomes:
        if outcome.result:
            result = outcome.result
            click.echo(
                f"Built {result.pages} pages and {len(result.pdfs)} PDFs into {result.site_dir}"
            )
        else:
            assert outcome.error is not None
            if len(outcomes) > 1:
                click.echo(f"{outcome.job.config_path}: not built:", err=True)
            raise_or_report(outcome.error, last=len(failures) == 1 and len(outcomes) == 1)
    if len(outcomes) > 1:
        click.echo(f"{len(outcomes) - len(failures)} of {len(outcomes)} schools built.")
    if failures:
        sys.exit(max(f.error.exit_code for f in failures if f.error))


def raise_or_report(error: EsafetyError, last: bool) -> None:
    """One school's error: raised when it is the only school, else printed and counted
    (with -v, a bug's traceback too)."""
    if last:
        raise error
    context = click.get_current_context(silent=True)
    if error.__cause__ is not None and context and context.find_root().obj.get("verbose"):
        traceback.print_exception(error.__cause__)
    click.echo(str(error), err=True)


@cli.command()
@CONFIG_OPTION
@click.option("--strict", is_flag=True, help="Exit with 1 when there are warnings.")
def check(config_path: Path, strict: bool) -> None:
    """Validate the config and list what needs attention.

    \b
    Example:
        esafety check --strict
    """
    from .build import load
    from .checks import findings, today
    from .compose import Composer

    config = load(config_path)
    try:
        day = today()
    except ValueError:
        raise UsageError(
            f"ESAFETY_TODAY={os.environ.get('ESAFETY_TODAY')!r} is not a date; write YYYY-MM-DD"
        ) from None
    composer = Composer(config, Path(config_path).resolve().parent)
    found = findings(config, day, composer.data)
    for finding in found:
        click.echo(f"{config_path}: warning: {finding}")
    if not found:
        click.echo(f"{config_path}: OK, no warnings")
    if strict and found:
        sys.exit(1)


@cli.command()
@CONFIG_OPTION
@click.option("--version", "new_version", required=True, help="The new policy version.")
@click.option(
    "--approved-on",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date the governors approve the new version (YYYY-MM-DD).",
)
@click.option("--approved-by", default=None, help="Who approves it, if it has changed.")
def review(config_path: Path, new_version: str, approved_on: Any, approved_by: str | None) -> None:
    """Start a new review: keep a copy of this version, then record the new one.

    The copy goes to reviews/<version>/ beside the config; the "What changed" page and
    changes.pdf then compare the new version with it.

    \b
    Example:
        esafety review --version 2027.1 --approved-on 2027-10-05
    """
    from .review import start_review

    folder = start_review(config_path, new_version, approved_on.date(), approved_by)
    click.echo(
        f"Kept a copy of the current policy in {folder}; {config_path} now says "
        f"version {new_version}, approved {approved_on.date().isoformat()}. Make your "
        "changes, then build: the What changed page shows them."
    )


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
def new(directory: Path) -> None:
    """Start a new school folder with a commented config to fill in.

    \b
    Example:
        esafety new st-marys && cd st-marys && esafety build
    """
    from .scaffold import scaffold

    config_path = scaffold(directory)
    click.echo(f"Created {config_path}: edit it, then run: esafety build --config {config_path}")


@cli.command()
@CONFIG_OPTION
@click.option(
    "--site-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to build (default: site/ beside the config).",
)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def serve(config_path: Path, site_dir: Path | None, port: int, host: str) -> None:
    """Preview the site, rebuilding when the config, content or templates change.

    \b
    Example:
        esafety serve --port 8000   # then open http://127.0.0.1:8000/
    """
    from .serve import serve as run_serve

    logging.getLogger("generator.serve").setLevel(logging.INFO)
    run_serve(config_path, site_dir, host=host, port=port)


@cli.command("schema")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
def schema_command(output: Path | None) -> None:
    """Print the JSON Schema of school_config.yaml (for editors).

    \b
    Example:
        esafety schema --output school_config.schema.json
    """
    from .config import json_schema_text

    text = json_schema_text()
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code instead of raising SystemExit (testable)."""
    args = sys.argv[1:] if argv is None else argv
    verbose = "-v" in args or "--verbose" in args
    try:
        result = cli.main(args=args, prog_name="esafety", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        return exc.exit_code
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else _command_path(args)
        message = exc.format_message().rstrip(".")
        click.echo(f"{command}: {message} (see: {command} --help)", err=True)
        return 2
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except EsafetyError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(str(exc), err=True)
        if isinstance(exc, ConfigError):
            count = len(exc.problems)
            builds = any(arg in ("build", "serve") for arg in args)
            click.echo(
                f"{count} problem{'s' if count != 1 else ''} found"
                + ("; nothing was built and the existing site is unchanged." if builds else "."),
                err=True,
            )
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:  # a bug: say so in one line, traceback with -v
        if verbose:
            traceback.print_exc()
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} (run with -v for details)", err=True
        )
        return 1


def _command_path(args: list[str]) -> str:
    """'esafety check' for a usage error that click reports without its context."""
    name = next((arg for arg in args if arg in cli.commands), None)
    return f"esafety {name}" if name else "esafety"


def run() -> NoReturn:
    """The ``esafety`` command: main(), then a quick exit. Exit handlers run (the PDF
    workers stop, logs flush) but Python's teardown of every module a build loaded, a
    fifth of a second of nothing, is skipped."""
    code = main()
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # not CPython: leave the normal way
        sys.exit(code)
    run_exit_handlers()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
