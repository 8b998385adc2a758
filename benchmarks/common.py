"""What the benchmark scripts share: CPU-sized networks and evaluation over a held-out set in batches."""
import jax
import ml_collections


def narrower(c, divisor, fields):
  """Every width field named in `fields`, in every sub-config at any depth, divided by `divisor` (at least 1)."""
  for name, value in c.items():
    if isinstance(value, ml_collections.ConfigDict):
      narrower(value, divisor, fields)
    elif name in fields:
      c[name] = (tuple(max(1, w // divisor) for w in value) if isinstance(value, (tuple, list))
                 else max(1, value // divisor))


def measure(method, state, eval_set, batch=50):
  """Means over eval_set of the method's evaluation scalars, taken `batch` examples at a time, and the first
  batch's images."""
  evaluate = jax.jit(method.evaluate)
  sums, first = {}, None
  for start in range(0, len(eval_set['hr']), batch):
    chunk = {k: v[start:start + batch] for k, v in eval_set.items()}
    outputs, scalars = jax.device_get(evaluate(state, chunk, jax.random.PRNGKey(0)))
    first = outputs if first is None else first
    for k, v in scalars.items():
      sums[k] = sums.get(k, 0.0) + float(v) * len(chunk['hr'])
  return {k: v / len(eval_set['hr']) for k, v in sums.items()}, first
