"""Released weights of the methods' original code as jaxsr runs.

    python -m jaxsr.import_weights --format=bulat_l2h --src=model.pkl --out=runs/bulat_l2h
    python -m jaxsr.upscale --run=runs/bulat_l2h --input=faces16/ --output=sr/

`bulat_l2h`: the Low-to-High generator Bulat, Yang and Tzimiropoulos released with "To learn image
super-resolution, use a GAN to learn how to do image degradation first" (ECCV 2018): `model.pkl` of
jingyang2017/Face-and-Image-super-resolution, a PyTorch state dict of `GEN_DEEP` (model.py) for 16x16 RGB faces in
[-1, 1]. The file is read with torch.load(weights_only=True) (tensors only, never pickled code; .safetensors
needs no torch). A file with missing, extra or mis-shaped tensors is refused, naming them.

`--out` becomes a run directory (config.json + a step-0 checkpoint of the generator, and `imported.json` naming
the source file and its sha256) that jaxsr.upscale, jaxsr.evaluate and --config.init_from accept as a trained run.
"""
import hashlib
import json
from pathlib import Path

import jax
import numpy as np
from absl import flags, logging

from jaxsr import methods
from jaxsr.core import cli, config_base, torch_state
from jaxsr.storage import checkpointing, run_record
from jaxsr.using import inference

# GEN_DEEP builds a third-stage skip (`a2`, 128 -> 96) that its forward pass never calls; PyTorch >= 0.4.1 saves a
# step counter per BatchNorm. Neither is a weight of the network that runs.
UNUSED = ('a2.0.weight', 'a2.0.bias')


def _l2h_torch_name(path):
  """jaxsr LowToHighGenerator module path -> the GEN_DEEP module name it comes from."""
  top, rest = path[0], path[1:]
  if top == 'stem':
    return 'layers_in'
  if top.startswith('stage'):
    stage, _, part = top[len('stage'):].partition('_')
    if part.startswith('block'):
      return '.'.join([f'layers_set_final.{stage}.{part[len("block"):]}', *rest])
    return {'skip': f'a{stage}.0', 'bn': f'layers_set_final_up.{stage}.1', 'proj': f'layers_set_final_up.{stage}.3'
            }[part]
  return {'head_conv': 'main.0', 'head_proj': 'main.2', 'head_out': 'main.4'}[top]


_LEAF = {('params', 'kernel'): 'weight', ('params', 'bias'): 'bias', ('params', 'scale'): 'weight',
         ('batch_stats', 'mean'): 'running_mean', ('batch_stats', 'var'): 'running_var'}


def _to_jax(name, value):
  """A PyTorch weight in jaxsr's layout: conv (O, I, kh, kw) -> (kh, kw, I, O); the 1x1 ConvTranspose2d after each
  upsampling stores (I, O, 1, 1) -> (1, 1, I, O)."""
  if value.ndim != 4:
    return value
  if name.startswith('layers_set_final_up.'):
    return value.transpose(2, 3, 0, 1)
  return value.transpose(2, 3, 1, 0)


def _torch_shape(name, shape):
  if len(shape) != 4:
    return tuple(shape)
  if name.startswith('layers_set_final_up.'):
    return (shape[2], shape[3], shape[0], shape[1])
  return (shape[3], shape[2], shape[0], shape[1])


def bulat_l2h_variables(state_dict, expected):
  """GEN_DEEP's state dict -> jaxsr variables ({'params', 'batch_stats'}) shaped as `expected` (shape structs of
  the LowToHighGenerator to fill). Raises ValueError naming every missing, extra or mis-shaped tensor."""
  variables, missing, wrong, used = {}, [], [], set()
  for path, leaf in jax.tree_util.tree_leaves_with_path(expected):
    keys = [p.key for p in path]
    collection, module, leaf_name = keys[0], keys[1:-1], keys[-1]
    name = f'{_l2h_torch_name(module)}.{_LEAF[(collection, leaf_name)]}'
    if name not in state_dict:
      missing.append(name)
      continue
    used.add(name)
    value = np.asarray(state_dict[name], np.float32)
    if value.shape != _torch_shape(name, leaf.shape):
      wrong.append(f'{name}: {value.shape} in the file, {_torch_shape(name, leaf.shape)} expected')
      continue
    node = variables
    for key in keys[:-1]:
      node = node.setdefault(key, {})
    node[leaf_name] = _to_jax(name, value)
  extra = sorted(k for k in state_dict if k not in used and k not in UNUSED and not k.endswith('num_batches_tracked'))
  problems = ([f'missing: {", ".join(missing)}'] if missing else []) + ([f'unexpected: {", ".join(extra)}']
                                                                        if extra else []) + wrong
  if problems:
    raise ValueError('not a GEN_DEEP state dict of this shape (jingyang2017/Face-and-Image-super-resolution, '
                     'model.py): ' + '; '.join(problems))
  return variables


def bulat_l2h_config():
  """configs/l2h.py as released: the full-width generator, no discriminator in the run (none was released)."""
  config = config_base.load_file(config_base.shipped_configs() / 'l2h.py')
  config.loss.adversarial = 0.0
  return config


def import_run(src, out, fmt='bulat_l2h'):
  """Writes the run directory `out` from the weights file `src`. Returns its config."""
  if fmt != 'bulat_l2h':
    raise ValueError(f"--format: unknown {fmt!r} (known: bulat_l2h)")
  src, out = Path(src).expanduser(), Path(out).expanduser().absolute()
  if (out / run_record.CONFIG).exists():
    raise FileExistsError(f'--out: {out} already holds a run; choose another directory')
  config = bulat_l2h_config()
  method = methods.create(config)
  state = inference.placeholder_state(method, config)
  generator = state.nets['generator']
  variables = bulat_l2h_variables(torch_state.read(src), {'params': generator.params, **generator.state})
  generator = generator.replace(params=variables['params'], state={'batch_stats': variables['batch_stats']},
                                opt_state=generator.tx.init(variables['params']))
  state = jax.device_put(state.replace(nets={'generator': generator}), jax.devices()[0])
  checkpointing.save_run(out, config, state)
  sha256 = hashlib.sha256(src.read_bytes()).hexdigest()
  (out / 'imported.json').write_text(json.dumps({'format': fmt, 'source': str(src.absolute()), 'sha256': sha256},
                                                indent=2))
  return config


def define_flags():
  flags.DEFINE_enum('format', 'bulat_l2h', ['bulat_l2h'], 'Which released network the file holds.')
  cli.define_path('src', None, 'The released weights (.pkl/.pth/.pt via torch.load(weights_only=True), or '
                  '.safetensors).', required=True)
  cli.define_path('out', None, 'The run directory to create.', required=True)


def main(argv):
  del argv
  cli.setup_logging()
  import_run(flags.FLAGS.src, flags.FLAGS.out, flags.FLAGS.format)
  logging.info('Wrote %s: python -m jaxsr.upscale --run=%s --input=<16x16 faces> --output=<folder>',
               flags.FLAGS.out, flags.FLAGS.out)


def run():
  """The command: `python -m jaxsr.import_weights`, or `jaxsr-import-weights` once installed."""
  define_flags()
  cli.run(main)


if __name__ == '__main__':
  run()
