"""What jaxsr's command-line tools share: path flags that expand `~`, a log without the libraries' INFO chatter,
log lines that do not tear the progress bar, and one line instead of a traceback for a user's mistake."""
import logging as std_logging
import os
import sys
import traceback
from pathlib import Path

import jax
import tqdm
from absl import app, flags, logging

from jaxsr.core import xla_flags

# The path flags defined below through define_path belong to the tool that calls it, so that its --help lists them.
flags.disclaim_key_flags()


class _PathParser(flags.ArgumentParser):
  """`--out=~/sr`: the shell expands `~` only at the start of a word, not after `=`, so the flag does."""
  syntactic_help = 'a path (~ is expanded)'

  def parse(self, argument):
    return os.path.expanduser(argument) if argument else argument

  def flag_type(self):
    return 'path'


def define_path(name, default, help_text, **kwargs):
  return flags.DEFINE(_PathParser(), name, default, help_text, serializer=flags.ArgumentSerializer(), **kwargs)


class _QuietLibraries(std_logging.Filter):
  """Keeps orbax's, tfds's and grain's INFO lines (several per checkpoint or dataset) out of the log."""

  def filter(self, record):
    return record.levelno >= std_logging.WARNING or not any(
        f'/{lib}/' in record.pathname for lib in ('orbax', 'tensorflow_datasets', 'grain'))


class _AboveProgressBars:
  """A stream for the log handler that writes through tqdm, which clears its bars, writes the line and redraws
  them, so a log line never lands in the middle of a bar."""

  def write(self, text):
    if text.strip():
      tqdm.tqdm.write(text.rstrip('\n'), file=sys.stderr)

  def flush(self):
    sys.stderr.flush()

  def close(self):
    """absl's handler closes its stream at exit; this one writes to stderr, which is not the handler's to close."""


CACHE_BYTES = 4 << 30  # the persistent compilation cache drops its least recently used entries beyond this


def set_up_compilation(config, cache_dir):
  """Call before jax starts its backend: XLA's quickest compiles for a config that asks for them
  (config.xla_fast_compile, the `tiny` variants; jaxsr.core.xla_flags), and jax's persistent compilation cache in
  `cache_dir` ('': none; $JAX_COMPILATION_CACHE_DIR, when set, comes first)."""
  if config.xla_fast_compile:
    xla_flags.add_to_environment(xla_flags.fast_compile())
  if cache_dir and not os.environ.get('JAX_COMPILATION_CACHE_DIR'):
    jax.config.update('jax_compilation_cache_dir', str(cache_dir))
    jax.config.update('jax_compilation_cache_max_size', CACHE_BYTES)


def setup_logging():
  """Call first in a tool's main(): quiet libraries, log lines above the progress bars."""
  handler = logging.get_absl_handler()
  if not any(isinstance(f, _QuietLibraries) for f in handler.filters):
    handler.addFilter(_QuietLibraries())
  handler.python_handler.stream = _AboveProgressBars()


PACKAGE = Path(__file__).resolve().parents[1]  # jaxsr/, of which this is core/cli.py
# What jaxsr raises itself when a path, a flag or a file is wrong; its message names the fix.
USER_ERRORS = (ValueError, KeyError, OSError)


def is_user_error(error):
  """A refusal jaxsr raised itself (one of USER_ERRORS, from a line of jaxsr's code), not a bug: an error from
  inside a library, or of another type, is shown with its traceback."""
  if not isinstance(error, USER_ERRORS):
    return False
  frames = traceback.extract_tb(error.__traceback__)
  return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(PACKAGE)


def run(main, **kwargs):
  """app.run(main) for jaxsr's tools: a user's mistake ends in one line, `<tool>: <message>`, and exit status 2;
  anything else keeps its traceback. JAXSR_TRACEBACK=1 shows the traceback of both."""
  def guarded(argv):
    try:
      return main(argv)
    except Exception as error:
      if os.environ.get('JAXSR_TRACEBACK') or not is_user_error(error):
        raise
      message = error.args[0] if isinstance(error, KeyError) and error.args else error
      print(f'{_tool_name()}: {message}', file=sys.stderr)
      sys.exit(2)
  app.run(guarded, **kwargs)


def _tool_name():
  """'jaxsr.upscale' for `python -m jaxsr.upscale` (argv[0] is the module's file), else the script's name."""
  script = Path(sys.argv[0]).resolve()
  if script.is_relative_to(PACKAGE):  # a console script (jaxsr-upscale) is named as it is
    return '.'.join(script.relative_to(PACKAGE.parent).with_suffix('').parts)
  return script.name
