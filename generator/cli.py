"""The ``esafety`` command: a thin layer over build, check, new and serve.

Exit codes: 0 success, 1 build failure, 2 invalid input or usage.
Users see one line per problem; ``-v`` adds the traceback.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from .defaults import config_file
from .errors import ConfigError, EsafetyError, Problem, UsageError, date_hint, interrupted

log = logging.getLogger("generator")


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        logging.getLogger().setLevel(logging.INFO)
        if isinstance(ctx.find_root().obj, dict):
            ctx.find_root().obj["verbose"] = True


class _Date(click.ParamType):
    """A date written YYYY-MM-DD; one written day first gets a did-you-mean."""

    name = "date"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date; write YYYY-MM-DD{date_hint(value)}", param, ctx)


DATE = _Date()

# -v works after the command too (esafety build -v), as with mkdocs.
VERBOSE_OPTION = click.option(
    "-v",
    "--verbose",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_verbose,
    help="Show details, and tracebacks on errors.",
)
SITE_DIR_OPTION = click.option(
    "-d",
    "--site-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to build (default: site/ beside the config).",
)
CONFIG_OPTION = click.option(
    "-f",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    callback=lambda ctx, param, value: value or config_file(),
    help="The school's config file (default: school_config.yaml, or .yml).",
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
@VERBOSE_OPTION
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-f",
    "--config",
    "config_paths",
    type=click.Path(path_type=Path),
    multiple=True,
    help="A school's config file (repeat for several; default: school_config.yaml).",
)
@click.option(
    "-d",
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
    from .pool import PdfRenderer, start_workers

    renderer = PdfRenderer(workers)
    if renderer.workers > 1:  # WeasyPrint loads in the fork server while configs are read
        start_workers(renderer.workers)
    from .build import build_many, find_jobs

    jobs = find_jobs([*config_paths, *sources] or [config_file()], site_dir)
    if site_dir is not None and len(jobs) > 1:
        from .trust import check_index_replaceable

        check_index_replaceable(site_dir)  # before anything is built
    outcomes = build_many(jobs, engine=engine, workers=workers)
    failures = [o for o in outcomes if o.error]
    reported: set[Problem] = set()  # a shared defaults file's problems are said once
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
            error = outcome.error
            if len(outcomes) > 1 and isinstance(error, ConfigError):
                fresh = [p for p in error.problems if p not in reported]
                reported.update(error.problems)
                if not fresh:
                    click.echo("(the problems shown above, in a file it shares)", err=True)
                    continue
                error = ConfigError(fresh)
            raise_or_report(error, last=len(failures) == 1 and len(outcomes) == 1)
    if len(outcomes) > 1:
        click.echo(f"{len(outcomes) - len(failures)} of {len(outcomes)} schools built.")
    folders = [Path(job.site_dir) for job in jobs if job.site_dir]
    if site_dir is not None and any(folder.parent == site_dir for folder in folders):
        from .trust import write_index  # each school in its own folder of site_dir

        index = write_index(site_dir, folders)
        if index:
            click.echo(f"Listed the schools' packs in {index}")
        _warn_of_packs_left(site_dir, folders)
    if failures:
        sys.exit(max(f.error.exit_code for f in failures if f.error))


def _warn_of_packs_left(site_dir: Path, built: list[Path]) -> None:
    """A school's pack in site_dir from an earlier build, for a school not in this one
    (one that left the trust?): it is still published with the folder, so say so. The
    tool never deletes it."""
    from .build import SITE_MARKER

    for folder in sorted(site_dir.iterdir()) if site_dir.is_dir() else []:
        if folder.is_dir() and folder not in built and (folder / SITE_MARKER).is_file():
            log.warning(
                "%s: the pack of a school not in this build is still here and is published "
                "with the folder (not listed in its index.html); delete it if the school "
                "has left",
                folder,
            )


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
@VERBOSE_OPTION
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-f",
    "--config",
    "config_paths",
    type=click.Path(path_type=Path),
    multiple=True,
    help="A school's config file (repeat for several; default: school_config.yaml).",
)
@click.option("--strict", is_flag=True, help="Exit with 1 when there are warnings.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="With several schools, or json/csv: one table (school, errors, warnings, "
    "policy version, next review).",
)
def check(
    sources: tuple[Path, ...], config_paths: tuple[Path, ...], strict: bool, output_format: str
) -> None:
    """Validate the config and list what needs attention; for a folder or several
    configs, one table of every school.

    \b
    Example:
        esafety check --strict
        esafety check trust/ --format csv > schools.csv
    """
    from .build import find_jobs

    _check_today()
    named = [*config_paths, *sources]
    configs = [job.config_path for job in find_jobs(named or [config_file()])]
    if len(configs) == 1 and output_format == "text" and not any(p.is_dir() for p in named):
        _check_one(configs[0], strict)
        return
    from .trust import as_csv, as_json, as_text, check_school

    checks = [check_school(path) for path in configs]
    formats = {"text": as_text, "json": as_json, "csv": as_csv}
    click.echo(formats[output_format](checks), nl=False)
    if any(c.errors or c.shared for c in checks):
        sys.exit(2)
    if strict and any(c.warnings for c in checks):
        sys.exit(1)


def _check_today() -> None:
    from .checks import today

    try:
        today()
    except ValueError:
        raise UsageError(
            f"ESAFETY_TODAY={os.environ.get('ESAFETY_TODAY')!r} is not a date; write YYYY-MM-DD"
        ) from None


def _check_one(config_path: Path, strict: bool) -> None:
    from .build import load
    from .checks import findings, today
    from .compose import Composer
    from .overrides import check as check_overrides

    config = load(config_path)
    composer = Composer(config, Path(config_path).resolve().parent)
    check_overrides(composer)
    found = findings(config, today(), composer.data)
    for finding in found:
        click.echo(f"{config_path}: warning: {finding}")
    if not found:
        click.echo(f"{config_path}: OK, no warnings")
    if strict and found:
        count = f"{len(found)} warning{'s' if len(found) > 1 else ''}"
        click.echo(f"{config_path}: not ready: {count} (--strict fails on any)", err=True)
        sys.exit(1)


@cli.command()
@VERBOSE_OPTION
@CONFIG_OPTION
@click.argument("name")
def override(config_path: Path, name: str) -> None:
    """Copy one of the tool's files into overrides/ beside the config, to change its words.

    NAME is a policy section's id, as the Word copy's and the PDF's headings are listed in
    content/policy/policy.yaml (phones, complaints...), or a path under content/ or
    templates/. The build then uses the school's copy; keep its {{ placeholders }}.

    \b
    Example:
        esafety override complaints
        esafety override content/rules/ks1.yaml
    """
    from .overrides import copy_to_overrides

    copy = copy_to_overrides(config_path.resolve().parent, name)
    click.echo(f"Copied to {copy}: change the words there, then build again.")


@cli.command()
@VERBOSE_OPTION
@CONFIG_OPTION
@click.option("--version", "new_version", required=True, help="The new policy version.")
@click.option(
    "--approved-on",
    required=True,
    type=DATE,
    metavar="YYYY-MM-DD",
    help="The date the governors approve the new version.",
)
@click.option("--approved-by", default=None, help="Who approves it, if it has changed.")
def review(
    config_path: Path, new_version: str, approved_on: dt.date, approved_by: str | None
) -> None:
    """Start a new review: keep a copy of this version, then record the new one.

    The copy goes to reviews/<version>/ beside the config; the "What changed" page and
    changes.pdf then compare the new version with it.

    \b
    Example:
        esafety review --version 2027.1 --approved-on 2027-10-05
    """
    from .review import start_review

    folder = start_review(config_path, new_version, approved_on, approved_by)
    click.echo(
        f"Kept a copy of the current policy in {folder}; {config_path} now says "
        f"version {new_version}, approved {approved_on.isoformat()}. Make your "
        "changes, then build: the What changed page shows them."
    )


@cli.command()
@VERBOSE_OPTION
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--phase",
    default=None,
    metavar="PHASE",
    help="The kind of school: nursery, infant, junior, primary (default), middle, "
    "secondary, all-through or special. Its key stages, phone rules and roles follow it.",
)
@click.option(
    "--trust",
    is_flag=True,
    help="Start a trust's folder: shared defaults, overrides/ and two example schools.",
)
@click.option(
    "--extends",
    default=None,
    metavar="FILE",
    help="Add a school to a trust: its config extends FILE (the trust's defaults, "
    "relative to DIR, e.g. ../defaults.yaml) and leaves the shared values to it.",
)
def new(directory: Path, phase: str | None, trust: bool, extends: str | None) -> None:
    """Start a school folder: a commented config written for its phase, a .gitignore
    and a workflow that publishes the pack on GitHub Pages on every push.

    \b
    Example:
        esafety new st-marys --phase secondary && cd st-marys && esafety build
        esafety new oak-trust --trust
        esafety new oak-trust/ash --phase infant --extends ../defaults.yaml
    """
    from .scaffold import scaffold, scaffold_trust

    if trust and extends:
        raise UsageError("--trust starts a trust's folder; --extends adds a school to one")
    if trust:
        configs = scaffold_trust(directory, phase)
        click.echo(
            f"Created {directory}/ with shared defaults (defaults.yaml), overrides/ and "
            f"{len(configs)} example schools: edit them, then run: esafety check {directory}"
        )
        return
    config_path = scaffold(directory, phase or "primary", extends)
    click.echo(
        f"Created {config_path}: its people, numbers and addresses are made up, so put your "
        f"school's own in their place (esafety check --config {config_path} lists those "
        f"left), then run: esafety build --config {config_path}"
    )


@cli.command()
@VERBOSE_OPTION
@CONFIG_OPTION
@SITE_DIR_OPTION
@click.option(
    "-p",
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="The port to serve on.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to serve on (this computer only by default).",
)
def serve(config_path: Path, site_dir: Path | None, port: int, host: str) -> None:
    """Preview the site, rebuilding when the config, content or templates change; an
    open page reloads itself when a rebuild lands.

    \b
    Example:
        esafety serve --port 8000   # then open http://127.0.0.1:8000/
    """
    from .serve import serve as run_serve

    logging.getLogger("generator.serve").setLevel(logging.INFO)
    run_serve(config_path, site_dir, host=host, port=port)


@cli.command("gh-deploy")
@VERBOSE_OPTION
@CONFIG_OPTION
@SITE_DIR_OPTION
@click.option(
    "-r", "--remote", default="origin", show_default=True, help="The git remote to push to."
)
@click.option(
    "-b", "--branch", default="gh-pages", show_default=True, help="The branch GitHub Pages serves."
)
@click.option(
    "-m", "--message", default=None, help="The commit message (default: names the commit built)."
)
@click.option(
    "--force", is_flag=True, help="Replace the remote branch even if it has other commits."
)
def gh_deploy(
    config_path: Path,
    site_dir: Path | None,
    remote: str,
    branch: str,
    message: str | None,
    force: bool,
) -> None:
    """Build, then publish the site on GitHub Pages: commit it to the gh-pages branch
    of the school folder's git repository and push it (as mkdocs gh-deploy does).

    \b
    Example:
        esafety gh-deploy --config school_config.yaml --remote origin
    """
    from .build import build, load
    from .deploy import check_repository, cname, push_site

    if not config_path.is_file():
        raise UsageError(f"{config_path}: no such config file")
    config = load(config_path)
    repo = check_repository(config_path.resolve().parent, remote)
    result = build(config_path, site_dir)
    click.echo(f"Built {result.pages} pages and {len(result.pdfs)} PDFs into {result.site_dir}")
    commit = push_site(
        result.site_dir,
        repo,
        remote=remote,
        branch=branch,
        message=message,
        force=force,
        host=cname(config),
    )
    click.echo(f"Pushed {result.site_dir} to {remote} {branch} (commit {commit[:7]})")


@cli.command("index")
@VERBOSE_OPTION
@click.argument("site_dir", type=click.Path(path_type=Path, file_okay=False))
def index_command(site_dir: Path) -> None:
    """Write SITE_DIR/index.html listing the packs in its folders (each school's name,
    policy version and next review), e.g. after putting together sites built on several
    machines. `esafety build FOLDER --site-dir DIR` writes it as well.

    \b
    Example:
        esafety index site
    """
    from .trust import write_index

    folders = sorted(p for p in site_dir.iterdir() if p.is_dir()) if site_dir.is_dir() else []
    index = write_index(site_dir, folders)
    if index is None:
        raise UsageError(f"{site_dir}: no school's pack in its folders (nothing to list)")
    click.echo(f"Listed the schools' packs in {index}")


@cli.command("schema")
@VERBOSE_OPTION
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
    except click.Abort:  # Ctrl+C, or kill: a stopped build changed nothing
        click.echo("Aborted.", err=True)
        return 130
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
            builds = any(arg in ("build", "serve", "gh-deploy") for arg in args)
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
    """The ``esafety`` command. Stopped with ``kill`` as with Ctrl+C: its PDF workers stop
    with it and a half-made site is cleared away."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not nohup's SIG_IGN
        signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    sys.unraisablehook = _unraisable
    code = main()
    # Whatever is alive now lives until exit: freezing it spares the collector's walk
    # through every object at interpreter shutdown (0.1 s after a build).
    gc.freeze()
    sys.exit(code)


def _interrupt(signum: int, frame: Any) -> NoReturn:
    interrupted.set()
    raise KeyboardInterrupt


def _unraisable(info: Any) -> None:
    """A Ctrl+C that landed in a __del__ or a weakref callback, where Python cannot raise
    it: remembered (the build stops before publishing), not printed as a traceback."""
    if info.exc_type is not None and issubclass(info.exc_type, KeyboardInterrupt):
        interrupted.set()
        return
    sys.__unraisablehook__(info)


if __name__ == "__main__":
    run()
