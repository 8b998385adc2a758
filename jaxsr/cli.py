"""What jaxsr's command-line tools share: path flags that expand `~`, a log without the libraries' INFO chatter,
and log lines that do not tear the progress bar."""
import logging as std_logging
import os
import sys

import tqdm
from absl import flags, logging

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


def setup_logging():
  """Call first in a tool's main(): quiet libraries, log lines above the progress bars."""
  handler = logging.get_absl_handler()
  if not any(isinstance(f, _QuietLibraries) for f in handler.filters):
    handler.addFilter(_QuietLibraries())
  handler.python_handler.stream = _AboveProgressBars()
