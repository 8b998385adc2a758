"""Builds a tfds dataset that configs can name.

    python -m jaxsr.data.build face_folder --path=~/img_align_celeba --name=celeba --crop=25,50,128,128
    python -m jaxsr.data.build face_folder --path=~/faces --name=faces_lm --landmarks=mtcnn  # FSRNet priors
    python -m jaxsr.data.build lr_face_folder --path=~/wider_lr --name=wider
    python -m jaxsr.data.build paired_folder --path=~/pairs/hr --lr_path=~/pairs/lr --name=pairs --scale=4
    python -m jaxsr.data.build procedural_faces            # the embedded set (training builds it on first use)

Then train with e.g. --config.dataset=face_folder/celeba --config.lr_dataset=lr_face_folder/wider, or on real
pairs with --config.dataset=paired_folder/pairs --config.eval_dataset=paired_folder/pairs --config.degradation=dataset.
"""
from absl import app, flags, logging

from jaxsr.core import cli
from jaxsr.data import pipeline

_PATH = cli.define_path('path', None, 'Folder of images (searched recursively).')
_NAME = flags.DEFINE_string('name', None, 'Dataset name: configs refer to it as <kind>/<name>.')
_DATA_DIR = cli.define_path('data_dir', None, 'tfds data dir (default: $TFDS_DATA_DIR or ~/tensorflow_datasets).')
_IMAGE_SIZE = flags.DEFINE_integer('image_size', None, 'Output side in pixels (default 64 HR, 16 LR).')
_CROP = flags.DEFINE_string('crop', None, "'center', 'none' or 'x,y,w,h' (default center HR, none LR).")
_MIN_SIZE = flags.DEFINE_integer('min_size', None, 'Skip images whose shorter side is smaller (default: half of '
                                  '--image_size).')
_MAX_SIZE = flags.DEFINE_integer('max_size', None, 'Skip images whose longer side is larger (0: no limit).')
_TEST_FRACTION = flags.DEFINE_float('test_fraction', None, 'Fraction of files held out as the test split.')
_OVERWRITE = flags.DEFINE_bool('overwrite', False, 'Rebuild a dataset of the same name built from another source.')
_LANDMARKS = flags.DEFINE_string('landmarks', None, "face_folder: 'mtcnn' (detected by jaxsr's MTCNN) or a "
                                 "CelebA-style landmarks file; stores five landmarks per face.")
_LR_PATH = cli.define_path('lr_path', None, 'paired_folder only: the folder of LR images, paired with --path by '
                            'file path without suffix.')
_SCALE = flags.DEFINE_integer('scale', None, 'paired_folder only: how many times smaller the LR images are '
                              '(default 4).')
_CONFIG = flags.DEFINE_string('config', None, 'procedural_faces only: builder config (default or tiny).')


def _valid_name(name):
  try:
    return name is None or bool(pipeline.check_name(name))
  except ValueError as error:
    raise flags.ValidationError(str(error)) from None


flags.register_validator('name', _valid_name)


def main(argv):
  cli.setup_logging()
  if len(argv) != 2 or argv[1] not in {**pipeline.EMBEDDED, **pipeline.FOLDERS}:
    raise app.UsageError(f'name one kind: {", ".join([*pipeline.EMBEDDED, *pipeline.FOLDERS])}')
  kind, data_dir = argv[1], _DATA_DIR.value or pipeline.default_data_dir()
  if kind in pipeline.EMBEDDED:
    builder = pipeline.make_builder(pipeline.EMBEDDED[kind], data_dir, config=_CONFIG.value)
    builder.download_and_prepare()
  else:
    if not _PATH.value or not _NAME.value:
      raise app.UsageError(f'{kind} needs --path and --name')
    cls = pipeline.FOLDERS[kind]
    if (kind == 'paired_folder') != bool(_LR_PATH.value):
      raise app.UsageError('--lr_path: paired_folder needs it, and only paired_folder takes it')
    overrides = {'image_size': _IMAGE_SIZE.value, 'crop': _CROP.value, 'min_size': _MIN_SIZE.value,
                 'max_size': _MAX_SIZE.value, 'test_fraction': _TEST_FRACTION.value, 'landmarks': _LANDMARKS.value}
    if kind == 'paired_folder':
      overrides.update(lr_path=_LR_PATH.value, scale=_SCALE.value)
    config = cls.BUILDER_CONFIG_CLS(name=_NAME.value, path=_PATH.value,
                                    **{k: v for k, v in overrides.items() if v is not None})
    builder = pipeline.build_folder_dataset(cls, config, data_dir, _OVERWRITE.value)
  info = builder.info
  if getattr(info, 'metadata', None):
    logging.info('skipped: %s', dict(info.metadata).get('skipped'))
  print(f'built {builder.data_dir}: ' + ', '.join(f'{s}={info.splits[s].num_examples}' for s in info.splits))


def run():
  """The command: `python -m jaxsr.data.build`, or `jaxsr-build` once installed."""
  cli.run(main)


if __name__ == '__main__':
  run()
