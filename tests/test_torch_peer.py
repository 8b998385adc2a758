"""benchmarks/torch_peer.py's PyTorch peers are the networks jaxsr trains: equal parameter counts network by
network, and one step of each peer updates every one of its networks (the benchmark times that step)."""
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip('torch')
REPO = Path(__file__).resolve().parents[1]
CONFIGS = ['edsr:tiny', 'srresnet:tiny', 'l2h_bicubic:tiny', 'h2l:tiny', 'degradation_sr:tiny',
           'degradation_sr:yoon,tiny', 'unet_degradation:tiny', 'unet_degradation:tiny,hr_disc']

CHECK = '''
import sys
import torch
sys.path.insert(0, sys.argv[1])
import common, torch_peer
for name in sys.argv[2:]:
  config = common.load_config(torch_peer.REPO / 'configs', name)
  peer = torch_peer.PEERS[config.method]
  nets = peer.networks(config)
  counts = {k: sum(p.numel() for p in m.parameters()) for k, (m, _) in nets.items()}
  assert counts == torch_peer.jax_parameter_counts(config), (name, counts)
  before = {k: [p.detach().clone() for p in m.parameters()] for k, (m, _) in nets.items()}
  peer.step(config, nets, torch.float32)(*peer.inputs(config, torch.device('cpu')))
  for k, (m, _) in nets.items():
    assert any(not torch.equal(a, b) for a, b in zip(before[k], m.parameters())), (name, k, 'not updated')
  print(name, counts)
'''


def test_each_peer_has_jaxsrs_parameter_counts_and_its_step_updates_every_network():
  result = subprocess.run([sys.executable, '-c', CHECK, str(REPO / 'benchmarks'), *CONFIGS], capture_output=True,
                          text=True, cwd=REPO)
  assert result.returncode == 0, result.stderr[-3000:]
  assert len(result.stdout.splitlines()) == len(CONFIGS)
