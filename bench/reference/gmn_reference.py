#!/usr/bin/env python3
"""Independent PyTorch reference of the GMN model (Bartunov & Vetrov) as docs/model.md specifies it.

Plain PyTorch, autograd for the gradients. Written from docs/model.md (and checked against the
authors' TensorFlow code), not from any other implementation in this repository.

Commands (see bench/reference/README.md):

    python3 bench/reference/gmn_reference.py golden --config C.json --out F.safetensors [--weights W.safetensors] [--seed N]
    python3 bench/reference/gmn_reference.py step-time [--config C.json] [--steps N]
    python3 bench/reference/gmn_reference.py count [--config C.json]
    python3 bench/reference/gmn_reference.py selfcheck

Conventions (docs/model.md): images NCHW, a flattened feature map in C, H, W order; conv weights
[Co, Ci, kh, kw], transposed-conv weights [Ci, Co, kh, kw], linear weights [out, in]; no conv biases;
TensorFlow SAME padding; TensorFlow 1.x legacy bilinear resize; the authors' GRU; causal attention
with pseudo-inputs; rows of the per-position tensors ordered b * T + t.
"""

import argparse
import json
import math
import os
import struct
import time
from dataclasses import dataclass, asdict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn

F_SIZE = 288  # features: 3 x 3 x 32
PRIOR_HIDDEN = 200  # width of the prior's hidden layer (fixed, not H)
IMAGE = 784

# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------

_CAMEL = {
    'architecture': 'architecture',
    'hops': 'hops',
    'priorHops': 'prior_hops',
    'pseudoInputs': 'pseudo_inputs',
    'similarity': 'similarity',
    'latent': 'latent',
    'stateSize': 'state_size',
    'keySize': 'key_size',
    'conditional': 'conditional',
    'episodeLength': 'episode_length',
    'maxClasses': 'max_classes',
    'batchSize': 'batch_size',
}


@dataclass
class Config:
    """Model configuration; the defaults are the paper's (docs/model.md)."""
    architecture: str = 'conv'
    hops: int = 4
    prior_hops: int = 1
    pseudo_inputs: int = 1
    similarity: str = 'dot'
    latent: int = 50
    state_size: int = 200
    key_size: int = 200
    conditional: bool = False
    episode_length: int = 10
    max_classes: int = 2
    batch_size: int = 20

    def validate(self):
        if self.architecture not in ('conv', 'fc'):
            raise ValueError(f"architecture must be 'conv' or 'fc', got {self.architecture!r}")
        if self.architecture == 'fc':
            raise NotImplementedError("architecture 'fc' is not implemented by this reference "
                                      "(docs/model.md does not specify the MLP variant)")
        if self.similarity not in ('dot', 'cosine'):
            raise ValueError(f"similarity must be 'dot' or 'cosine', got {self.similarity!r}")
        for name in ('hops', 'prior_hops', 'pseudo_inputs'):
            if int(getattr(self, name)) < 0:
                raise ValueError(f'{name} must be >= 0')
        for name in ('latent', 'state_size', 'key_size', 'episode_length', 'max_classes', 'batch_size'):
            if int(getattr(self, name)) < 1:
                raise ValueError(f'{name} must be >= 1')
        return self

    @staticmethod
    def from_json(obj):
        kwargs = {}
        for key, value in obj.items():
            if key not in _CAMEL:
                raise ValueError(f'unknown config key {key!r}; expected one of {sorted(_CAMEL)}')
            kwargs[_CAMEL[key]] = value
        return Config(**kwargs).validate()

    @staticmethod
    def load(path):
        if path is None:
            return Config().validate()
        with open(path) as f:
            return Config.from_json(json.load(f))

    def to_json(self):
        d = asdict(self)
        return {camel: d[snake] for camel, snake in _CAMEL.items()}


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------

def prelu(x, slope, channel_dim=1):
    """relu(x) + slope * min(0, x), one slope per channel on `channel_dim` (the authors' form).

    Written as relu(x) - slope * relu(-x) so that the derivative at exactly 0 is 0 (as in TF)."""
    shape = [1] * x.dim()
    shape[channel_dim] = -1
    s = slope.reshape(shape)
    return torch.relu(x) - s * torch.relu(-x)


def linear(x, weight, bias=None):
    return Fn.linear(x, weight, bias)


def pad_same(x, k):
    """TensorFlow SAME padding for a stride-1 k x k kernel: total k - 1, smaller half top/left."""
    total = k - 1
    before = total // 2
    after = total - before
    return Fn.pad(x, (before, after, before, after))


def legacy_resize_matrix(n_in, n_out, dtype):
    """[n_out, n_in] interpolation matrix of TF 1.x legacy bilinear resize along one axis:
    src = dst * n_in / n_out, lower = floor(src), upper = min(lower + 1, n_in - 1)."""
    m = np.zeros((n_out, n_in), dtype=np.float64)
    scale = n_in / n_out
    for d in range(n_out):
        src = d * scale
        lo = int(math.floor(src))
        hi = min(lo + 1, n_in - 1)
        frac = src - lo
        m[d, lo] += 1.0 - frac
        m[d, hi] += frac
    return torch.tensor(m, dtype=dtype)


def resize_bilinear_legacy(x, out_h, out_w):
    """x [N, C, H, W] -> [N, C, out_h, out_w] (separable: rows, then columns)."""
    ry = legacy_resize_matrix(x.shape[2], out_h, x.dtype)
    rx = legacy_resize_matrix(x.shape[3], out_w, x.dtype)
    return torch.einsum('yh,nchw,xw->ncyx', ry, x, rx)


class Params(nn.Module):
    """A leaf holding named parameters (weight, bias, slope, ...)."""

    def __init__(self, **shapes):
        super().__init__()
        for name, shape in shapes.items():
            self.register_parameter(name, nn.Parameter(torch.zeros(*shape)))


# --------------------------------------------------------------------------------------------
# Encoder and decoder (conv variant)
# --------------------------------------------------------------------------------------------

class EncSection(nn.Module):
    """h = PReLU(conv_valid_stride2(x)); h = PReLU(h + conv_same(h)); out = h + avgpool_k(conv1x1(x))."""

    def __init__(self, ci, co, k, kb):
        super().__init__()
        self.k, self.kb = k, kb
        self.conv = Params(weight=(co, ci, k, k), slope=(co,))
        self.block = Params(weight=(co, co, kb, kb), slope=(co,))
        self.shortcut = Params(weight=(co, ci, 1, 1))

    def forward(self, x):
        h = prelu(Fn.conv2d(x, self.conv.weight, stride=2), self.conv.slope)
        h = prelu(h + Fn.conv2d(pad_same(h, self.kb), self.block.weight), self.block.slope)
        s = Fn.avg_pool2d(Fn.conv2d(x, self.shortcut.weight), self.k, stride=2)
        return h + s


class DecSection(nn.Module):
    """h = PReLU(convT_stride2(x)); h = PReLU(h + conv_same(h)); out = h + resize(convT1x1(x))."""

    def __init__(self, ci, co, k, kb):
        super().__init__()
        self.k, self.kb = k, kb
        self.conv = Params(weight=(ci, co, k, k), slope=(co,))
        self.block = Params(weight=(co, co, kb, kb), slope=(co,))
        self.shortcut = Params(weight=(ci, co, 1, 1))

    def forward(self, x):
        h = prelu(Fn.conv_transpose2d(x, self.conv.weight, stride=2), self.conv.slope)
        h = prelu(h + Fn.conv2d(pad_same(h, self.kb), self.block.weight), self.block.slope)
        s = Fn.conv_transpose2d(x, self.shortcut.weight)
        return h + resize_bilinear_legacy(s, h.shape[2], h.shape[3])


ENC_SECTIONS = [(1, 16, 4, 3), (16, 32, 3, 3), (32, 32, 2, 2)]   # (Ci, Co, k, kb)
DEC_SECTIONS = [(32, 32, 2, 2), (32, 16, 3, 3), (16, 16, 4, 3)]


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        for i, (ci, co, k, kb) in enumerate(ENC_SECTIONS, 1):
            self.add_module(f's{i}', EncSection(ci, co, k, kb))

    def forward(self, x, trace=None):
        h = x.reshape(-1, 1, 28, 28)
        for i in range(1, 4):
            h = getattr(self, f's{i}')(h)
            if trace is not None:
                trace.append(tuple(h.shape))
        return h.reshape(h.shape[0], -1)  # C, H, W order: [N, 288]


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.add_module('in', Params(weight=(F_SIZE, cfg.latent + F_SIZE + cfg.state_size), bias=(F_SIZE,)))
        for i, (ci, co, k, kb) in enumerate(DEC_SECTIONS, 1):
            self.add_module(f's{i}', DecSection(ci, co, k, kb))
        self.out = Params(weight=(1, 16, 1, 1))

    def forward(self, inp, trace=None):
        fc = getattr(self, 'in')
        h = linear(inp, fc.weight, fc.bias).reshape(-1, 32, 3, 3)
        if trace is not None:
            trace.append(tuple(h.shape))
        for i in range(1, 4):
            h = getattr(self, f's{i}')(h)
            if trace is not None:
                trace.append(tuple(h.shape))
        return Fn.conv2d(h, self.out.weight).reshape(h.shape[0], IMAGE)  # Bernoulli logits


# --------------------------------------------------------------------------------------------
# Readers (memory, attention, GRU controller)
# --------------------------------------------------------------------------------------------

class Reader(nn.Module):
    """Keys, pseudo-inputs, initial state and GRU of one reader (`shared` or `prior`)."""

    def __init__(self, cfg):
        super().__init__()
        H, D, P = cfg.state_size, cfg.key_size, cfg.pseudo_inputs
        self.key = Params(weight=(D, F_SIZE), bias=(D,), slope=(D,))
        self.pseudo = Params(value=(P, F_SIZE), key=(P, D))
        self.h0 = nn.Parameter(torch.zeros(H))
        self.gru = nn.Module()
        self.gru.gates = Params(weight=(2 * H, F_SIZE + 2 * H), bias=(2 * H,))
        self.gru.cand = Params(weight=(H, F_SIZE + 2 * H), bias=(H,), slope=(H,))

    def keys(self, psi):
        return prelu(linear(psi, self.key.weight, self.key.bias), self.key.slope, channel_dim=-1)

    def gru_step(self, x, h):
        """The authors' GRU: (rg, u) = sigmoid([x, h] Wg^T + bg); c = PReLU([x, rg*h] Wc^T + bc);
        h' = u h + (1 - u) c."""
        H = h.shape[-1]
        gates = torch.sigmoid(linear(torch.cat([x, h], -1), self.gru.gates.weight, self.gru.gates.bias))
        rg, u = gates[..., :H], gates[..., H:]
        c = prelu(linear(torch.cat([x, rg * h], -1), self.gru.cand.weight, self.gru.cand.bias),
                  self.gru.cand.slope, channel_dim=-1)
        return u * h + (1 - u) * c


def visibility(T, P, conditional):
    """[T, T + P] bool: row t sees memory slots s < t and the pseudo-inputs (all t, or only t = 0
    with `conditional`)."""
    mask = torch.zeros(T, T + P, dtype=torch.bool)
    for t in range(T):
        mask[t, :t] = True
        if P > 0 and (t == 0 or not conditional):
            mask[t, T:] = True
    return mask


def similarity(q, keys, kind):
    """q [B, T, D], keys [B, S, D] -> [B, T, S]. 'dot': q.k (the authors' code); 'cosine':
    q.k / max(|q| |k|, 1e-8) (the epsilon is this reference's choice; docs/model.md names none)."""
    sim = torch.einsum('btd,bsd->bts', q, keys)
    if kind == 'cosine':
        qn = q.norm(dim=-1)
        kn = keys.norm(dim=-1)
        sim = sim / torch.clamp(qn[:, :, None] * kn[:, None, :], min=1e-8)
    return sim


def read(reader, psi, g, hops, query_fn, strength_fn, mask, sim_kind):
    """A read for every row (b, t) at once.

    psi [B, T, F] memory values, g [B, T, D] memory keys; query_fn(h) -> [B, T, D], strength_fn(h)
    -> [B, T, 1] with h [B, T, H]. Returns (r [B, T, F], h [B, T, H])."""
    B, T, _ = psi.shape
    P = reader.pseudo.value.shape[0]
    values = torch.cat([psi, reader.pseudo.value.unsqueeze(0).expand(B, P, F_SIZE)], 1)   # [B, T+P, F]
    h = reader.h0.expand(B, T, reader.h0.shape[0])
    visible = mask.to(psi.dtype)                                                            # [T, T+P]
    any_visible = visible.sum(-1, keepdim=True) > 0                                         # [T, 1]
    if hops == 0:
        # average matching: the mean of the visible values (0 when nothing is visible)
        count = visible.sum(-1, keepdim=True).clamp(min=1.0)
        r = torch.einsum('ts,bsf->btf', visible / count, values)
        return r, reader.gru_step(torch.cat([r, h], -1), h)
    keys = torch.cat([g, reader.pseudo.key.unsqueeze(0).expand(B, P, g.shape[-1])], 1)      # [B, T+P, D]
    r = None
    for _ in range(hops):
        q = query_fn(h)
        beta = torch.clamp(strength_fn(h), 1e-10, 10.0)                                     # [B, T, 1]
        logits = beta * similarity(q, keys, sim_kind)                                        # [B, T, T+P]
        logits = logits.masked_fill(~mask, float('-inf'))
        logits = torch.where(any_visible, logits, torch.zeros_like(logits))
        w = torch.softmax(logits, -1) * any_visible.to(logits.dtype)
        r = torch.einsum('bts,bsf->btf', w, values)
        h = reader.gru_step(torch.cat([r, h], -1), h)
    return r, h


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------

class GMN(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        H, D, Z = cfg.state_size, cfg.key_size, cfg.latent
        self.enc = Encoder()
        self.dec = Decoder(cfg)
        self.shared = Reader(cfg)
        self.prior = Reader(cfg)
        # prior query/strength/heads live next to the prior reader's parameters (names `prior.*`)
        self.prior.query = Params(weight=(D, H), bias=(D,))
        self.prior.strength = Params(weight=(1, H), bias=(1,))
        self.prior.hidden = Params(weight=(PRIOR_HIDDEN, F_SIZE + H), bias=(PRIOR_HIDDEN,), slope=(PRIOR_HIDDEN,))
        self.prior.mu = Params(weight=(Z, PRIOR_HIDDEN), bias=(Z,))
        self.prior.sigma = Params(weight=(Z, PRIOR_HIDDEN), bias=(Z,))
        self.rec = nn.Module()
        self.rec.query = Params(weight=(D, H + F_SIZE), bias=(D,))
        self.rec.strength = Params(weight=(1, H), bias=(1,))
        self.rec.mu = Params(weight=(Z, 2 * F_SIZE + H), bias=(Z,))
        self.rec.sigma = Params(weight=(Z, 2 * F_SIZE + H), bias=(Z,))
        self.gen = nn.Module()
        self.gen.query = Params(weight=(D, H + Z), bias=(D,))
        self.gen.strength = Params(weight=(1, H), bias=(1,))

    # -- initialisation (docs/model.md, "Initialisation") ------------------------------------
    @torch.no_grad()
    def initialise(self, seed):
        gen = torch.Generator().manual_seed(int(seed))
        cfg = self.cfg
        params = dict(self.named_parameters())

        def he(name, fan_in, gain):
            p = params[name]
            std = math.sqrt(gain / fan_in)
            # truncated normal (TF): N(0, std) redrawn outside 2 std
            v = torch.randn(p.shape, generator=gen, dtype=torch.float64) * std
            bad = v.abs() > 2 * std
            while bad.any():
                v[bad] = torch.randn(int(bad.sum()), generator=gen, dtype=torch.float64) * std
                bad = v.abs() > 2 * std
            p.copy_(v)

        def unit(name, fan_in):
            he(name, fan_in, 1.0)
            p = params[name]
            p.div_(p.norm())

        def uniform(name, a):
            p = params[name]
            p.copy_((torch.rand(p.shape, generator=gen, dtype=torch.float64) * 2 - 1) * a)

        for name, p in params.items():
            if name.endswith('.bias'):
                p.zero_()

        for i, (ci, co, k, kb) in enumerate(ENC_SECTIONS, 1):
            s = f'enc.s{i}'
            he(f'{s}.conv.weight', ci * k * k, 2.0)
            uniform(f'{s}.conv.slope', 0.01)
            unit(f'{s}.block.weight', co * kb * kb)
            uniform(f'{s}.block.slope', 0.01)
            unit(f'{s}.shortcut.weight', ci)
        he('dec.in.weight', cfg.latent + F_SIZE + cfg.state_size, 1.0)
        for i, (ci, co, k, kb) in enumerate(DEC_SECTIONS, 1):
            s = f'dec.s{i}'
            he(f'{s}.conv.weight', ci * k * k, 2.0)   # fan_in = k*k*Ci (the transposed conv's input channels)
            uniform(f'{s}.conv.slope', 0.01)
            unit(f'{s}.block.weight', co * kb * kb)
            uniform(f'{s}.block.slope', 0.01)
            unit(f'{s}.shortcut.weight', ci)
        he('dec.out.weight', 16, 1.0)
        for r in ('shared', 'prior'):
            he(f'{r}.key.weight', F_SIZE, 2.0)
            uniform(f'{r}.key.slope', 0.01)
            uniform(f'{r}.pseudo.value', 1.0 / F_SIZE)
            uniform(f'{r}.pseudo.key', 1.0 / F_SIZE)
            uniform(f'{r}.h0', 1.0 / F_SIZE)
            he(f'{r}.gru.gates.weight', F_SIZE + 2 * cfg.state_size, 1.0)
            unit(f'{r}.gru.cand.weight', F_SIZE + 2 * cfg.state_size)
            uniform(f'{r}.gru.cand.slope', 0.02)
        for q in ('rec', 'gen', 'prior'):
            unit(f'{q}.query.weight', params[f'{q}.query.weight'].shape[1])
            unit(f'{q}.strength.weight', cfg.state_size)
        unit('prior.hidden.weight', F_SIZE + cfg.state_size)
        uniform('prior.hidden.slope', 0.01)
        he('prior.mu.weight', PRIOR_HIDDEN, 1.0)
        he('prior.sigma.weight', PRIOR_HIDDEN, 1.0)
        he('rec.mu.weight', 2 * F_SIZE + cfg.state_size, 1.0)
        he('rec.sigma.weight', 2 * F_SIZE + cfg.state_size, 1.0)
        return self

    # -- forward --------------------------------------------------------------------------------
    def forward(self, x, eps):
        """x [B, T, 784], eps [B*T, Z] -> dict of per-row tensors (rows b*T + t)."""
        cfg = self.cfg
        B, T = x.shape[0], x.shape[1]
        Z = cfg.latent
        mask = visibility(T, cfg.pseudo_inputs, cfg.conditional)

        psi = self.enc(x.reshape(B * T, IMAGE)).reshape(B, T, F_SIZE)          # 1.
        g_shared = self.shared.keys(psi)                                        # 2.
        g_prior = self.prior.keys(psi)

        # 4. recognition
        rec = self.rec
        r_q, h_q = read(self.shared, psi, g_shared, cfg.hops,
                        lambda h: linear(torch.cat([h, psi], -1), rec.query.weight, rec.query.bias),
                        lambda h: linear(h, rec.strength.weight, rec.strength.bias),
                        mask, cfg.similarity)
        rec_in = torch.cat([psi, r_q, h_q], -1).reshape(B * T, -1)
        mu_q = linear(rec_in, rec.mu.weight, rec.mu.bias)
        sigma_q = Fn.softplus(torch.clamp(linear(rec_in, rec.sigma.weight, rec.sigma.bias), -10.0, 10.0))
        z = mu_q + sigma_q * eps

        # 5. prior
        pr = self.prior
        r_p, h_p = read(pr, psi, g_prior, cfg.prior_hops,
                        lambda h: linear(h, pr.query.weight, pr.query.bias),
                        lambda h: linear(h, pr.strength.weight, pr.strength.bias),
                        mask, cfg.similarity)
        a = prelu(linear(torch.cat([r_p, h_p], -1).reshape(B * T, -1), pr.hidden.weight, pr.hidden.bias),
                  pr.hidden.slope, channel_dim=-1)
        mu_p = linear(a, pr.mu.weight, pr.mu.bias)
        sigma_p = Fn.softplus(torch.clamp(linear(a, pr.sigma.weight, pr.sigma.bias), -10.0, 10.0))

        # 6. likelihood
        gq = self.gen
        z_bt = z.reshape(B, T, Z)
        r_g, h_g = read(self.shared, psi, g_shared, cfg.hops,
                        lambda h: linear(torch.cat([h, z_bt], -1), gq.query.weight, gq.query.bias),
                        lambda h: linear(h, gq.strength.weight, gq.strength.bias),
                        mask, cfg.similarity)
        logits = self.dec(torch.cat([z_bt, r_g, h_g], -1).reshape(B * T, -1))

        return dict(psi=psi, z=z, mu_q=mu_q, sigma_q=sigma_q, mu_p=mu_p, sigma_p=sigma_p, logits=logits)


def log_normal(z, mu, sigma):
    return -0.5 * (((z - mu) / sigma) ** 2 + math.log(2 * math.pi) + 2 * torch.log(sigma)).sum(-1)


def log_bernoulli(x, logits):
    # x log sigmoid(f) + (1 - x) log(1 - sigmoid(f)) = -x softplus(-f) - (1 - x) softplus(f)
    return (-x * Fn.softplus(-logits) - (1 - x) * Fn.softplus(logits)).sum(-1)


def loss_terms(model, x, eps):
    """-> (terms [B*T, 3] = (log p(x|z), log p(z), log q(z)), loss)."""
    cfg = model.cfg
    B, T = x.shape[0], x.shape[1]
    out = model(x, eps)
    xf = x.reshape(B * T, IMAGE)
    t0 = log_bernoulli(xf, out['logits'])
    t1 = log_normal(out['z'], out['mu_p'], out['sigma_p'])
    t2 = log_normal(out['z'], out['mu_q'], out['sigma_q'])
    terms = torch.stack([t0, t1, t2], -1)
    weight = torch.ones(B, T, dtype=x.dtype)
    if cfg.conditional:
        weight[:, :min(cfg.max_classes, T)] = 0
    loss = -((t0 + t1 - t2) * weight.reshape(-1)).sum() / B
    return terms, loss


# --------------------------------------------------------------------------------------------
# safetensors (numpy)
# --------------------------------------------------------------------------------------------

_ST_DTYPES = {'F32': '<f4', 'F64': '<f8', 'F16': '<f2', 'I64': '<i8', 'I32': '<i4', 'I16': '<i2',
              'I8': 'i1', 'U8': 'u1', 'BOOL': '?'}


def read_safetensors(path):
    """-> (dict name -> numpy array, metadata dict or None). Tensors of unknown dtypes are skipped."""
    with open(path, 'rb') as f:
        blob = f.read()
    (n,) = struct.unpack('<Q', blob[:8])
    header = json.loads(blob[8:8 + n].decode('utf-8'))
    base = 8 + n
    meta = header.pop('__metadata__', None)
    tensors = {}
    for name, info in header.items():
        dt = _ST_DTYPES.get(info['dtype'])
        if dt is None:
            continue
        start, end = info['data_offsets']
        arr = np.frombuffer(blob[base + start:base + end], dtype=dt)
        tensors[name] = arr.reshape(info['shape']).copy()
    return tensors, meta


def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> array (written as float32 'F32'), in the given order."""
    header = {}
    chunks = []
    offset = 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(np.asarray(arr, dtype='<f4'))
        data = a.tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata is not None:
        header = {'__metadata__': {str(k): str(v) for k, v in metadata.items()}, **header}
    hb = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hb += b' ' * ((-len(hb)) % 8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for c in chunks:
            f.write(c)


def load_weights(model, path):
    tensors, _ = read_safetensors(path)
    missing = []
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name not in tensors:
                missing.append(name)
                continue
            a = tensors[name]
            if tuple(a.shape) != tuple(p.shape):
                raise ValueError(f'{path}: {name} has shape {list(a.shape)}, expected {list(p.shape)}')
            p.copy_(torch.from_numpy(a.astype(np.float64)))
    if missing:
        raise ValueError(f'{path}: missing parameters {missing}')
    return model


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------

def build(cfg, seed=0, weights=None, dtype=torch.float32):
    model = GMN(cfg)
    model.initialise(seed)  # float32 parameters
    if weights is not None:
        model.float()
        load_weights(model, weights)
    return model.to(dtype)


def draw_inputs(cfg, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(int(seed) + 1000003)
    B, T = cfg.batch_size, cfg.episode_length
    x = (torch.rand(B, T, IMAGE, generator=g) < 0.3).to(dtype)
    eps = torch.randn(B * T, cfg.latent, generator=g).to(dtype)
    return x, eps


def count_parameters(cfg):
    return sum(p.numel() for p in GMN(cfg).parameters())


def grads_of(model, loss):
    names, params = zip(*model.named_parameters())
    gs = torch.autograd.grad(loss, params, allow_unused=True)
    return {n: (g if g is not None else torch.zeros_like(p)) for n, p, g in zip(names, params, gs)}


def cmd_golden(args):
    with open(args.config) as f:
        raw = json.load(f)
    cfg = Config.from_json(raw)
    model = build(cfg, seed=args.seed, weights=args.weights, dtype=torch.float32)
    x, eps = draw_inputs(cfg, args.seed, torch.float32)
    # the fixture holds float32 values; compute in float64 from exactly those values
    m64 = GMN(cfg)
    m64.load_state_dict(model.state_dict())
    m64 = m64.double()
    terms, loss = loss_terms(m64, x.double(), eps.double())
    grads = grads_of(m64, loss)
    out = {}
    for name, p in model.named_parameters():
        out[f'param.{name}'] = p.detach().numpy()
    out['input.x'] = x.numpy()
    out['input.eps'] = eps.numpy()
    out['output.terms'] = terms.detach().numpy()
    out['output.loss'] = loss.detach().reshape(1).numpy()
    for name, g in grads.items():
        out[f'grad.{name}'] = g.detach().numpy()
    meta = {'config': json.dumps(cfg.to_json()), 'generator': 'bench/reference/gmn_reference.py',
            'torch': torch.__version__}
    write_safetensors(args.out, out, meta)
    print(json.dumps({'out': args.out, 'loss': float(loss), 'tensors': len(out),
                      'bytes': os.path.getsize(args.out)}))


def set_threads():
    n = os.environ.get('GMN_THREADS')
    if n:
        torch.set_num_threads(int(n))


def cmd_step_time(args):
    set_threads()
    cfg = Config.load(args.config)
    torch.manual_seed(0)
    model = build(cfg, seed=0, dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
    x, eps = draw_inputs(cfg, 0, torch.float32)

    def step():
        opt.zero_grad(set_to_none=True)
        _, loss = loss_terms(model, x, eps)
        loss.backward()
        opt.step()
        return float(loss)

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000.0)
    print(json.dumps({'ms_per_step': float(np.median(times)), 'steps': args.steps,
                      'threads': torch.get_num_threads()}))


def cmd_count(args):
    cfg = Config.load(args.config)
    print(count_parameters(cfg))


# -- self-checks --------------------------------------------------------------------------------

def _fd_entry(model, x, eps, flat, i, analytic, steps=(1e-6, 1e-7, 1e-8), loss_scale=1.0):
    """Central differences at decreasing steps until one agrees with `analytic`.

    The loss is only piecewise smooth (PReLU, clips): a step that crosses a kink gives a wrong
    difference quotient, and a smaller step then agrees. The tolerance includes the float64
    rounding of the loss (loss_scale = |loss|) divided by the step. Returns (ok, step, fd, rel err)."""
    best = None
    for h in steps:
        old = flat[i].item()
        flat[i] = old + h
        lp = loss_terms(model, x, eps)[1].item()
        flat[i] = old - h
        lm = loss_terms(model, x, eps)[1].item()
        flat[i] = old
        fd = (lp - lm) / (2 * h)
        err = abs(fd - analytic) / max(1.0, abs(fd), abs(analytic))
        if best is None or err < best[3]:
            best = (False, h, fd, err)
        if abs(fd - analytic) <= 1e-6 + 1e-5 * abs(analytic) + 4 * loss_scale * 1.2e-16 / h:
            return True, h, fd, err
    return best


def _check_fd(model, x, eps, rng, per_tensor=3, full_up_to=0, only=None):
    """Finite differences vs autograd (float64): every entry of tensors with at most `full_up_to`
    entries, `per_tensor` random entries of the others (only the tensors named in `only`, if given)."""
    _, loss = loss_terms(model, x, eps)
    scale = abs(float(loss))
    grads = grads_of(model, loss)
    checked = first_step = 0
    failures = []
    worst = (0.0, None)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if only is not None and name not in only:
                continue
            flat = p.view(-1)
            if flat.numel() <= full_up_to:
                idx = range(flat.numel())
            else:
                idx = rng.choice(flat.numel(), size=min(per_tensor, flat.numel()), replace=False)
            for i in idx:
                i = int(i)
                an = grads[name].view(-1)[i].item()
                ok, h, fd, err = _fd_entry(model, x, eps, flat, i, an, loss_scale=scale)
                checked += 1
                first_step += int(ok and h == 1e-6)
                if not ok:
                    failures.append(f'{name}[{i}] fd={fd:.9g} autograd={an:.9g}')
                if err > worst[0]:
                    worst = (err, f'{name}[{i}] step={h:g} fd={fd:.9g} autograd={an:.9g}')
    return {'entries': checked, 'agree_at_step_1e-6': first_step, 'failures': failures,
            'worst_rel_err': worst[0], 'worst_at': worst[1]}


def _perturb(model, seed):
    """Move away from the initial point so that attention is sharp and strengths unclipped."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('pseudo.value') or name.endswith('pseudo.key') or name.endswith('.h0'):
                p.copy_((torch.rand(p.shape, generator=g, dtype=p.dtype) * 2 - 1) * 0.5)
            elif name.endswith('strength.bias'):
                p.fill_(2.0)
            elif name.endswith('.bias') or name.endswith('.slope'):
                p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.1)


def _gradcheck(model, x, eps, max_entries):
    """torch.autograd.gradcheck of the loss w.r.t. every parameter tensor with at most
    `max_entries` entries (the others held fixed)."""
    names = [n for n, p in model.named_parameters() if p.numel() <= max_entries]
    params = dict(model.named_parameters())

    def fn(*vals):
        saved = {}
        for n, v in zip(names, vals):
            mod_path, attr = n.rsplit('.', 1)
            mod = model.get_submodule(mod_path)
            saved[n] = mod._parameters.pop(attr)
            setattr(mod, attr, v)
        try:
            return loss_terms(model, x, eps)[1]
        finally:
            for n in names:
                mod_path, attr = n.rsplit('.', 1)
                mod = model.get_submodule(mod_path)
                delattr(mod, attr)
                mod._parameters[attr] = saved[n]

    inputs = tuple(params[n].detach().clone().requires_grad_(True) for n in names)
    ok = torch.autograd.gradcheck(fn, inputs, eps=1e-7, atol=1e-5, rtol=1e-4, raise_exception=False)
    result = {'tensors': len(names), 'entries': int(sum(i.numel() for i in inputs)), 'passed': bool(ok)}
    if not ok:
        # gradcheck's single step can straddle a PReLU kink: redo every entry with smaller steps
        fd = _check_fd(model, x, eps, None, full_up_to=max_entries, only=set(names))
        result['recheck_all_entries_smaller_steps'] = {
            'entries': fd['entries'], 'failures': fd['failures'], 'worst_rel_err': fd['worst_rel_err'],
            'worst_at': fd['worst_at']}
    return result


def _naive_forward(model, x, eps):
    """The same forward pass, one row (b, t) at a time with explicit Python loops over memory
    slots: an independent check of the vectorised masking, attention and row order."""
    cfg = model.cfg
    B, T = x.shape[0], x.shape[1]
    P = cfg.pseudo_inputs
    psi = model.enc(x.reshape(B * T, IMAGE)).reshape(B, T, F_SIZE)

    def one_read(R, b, t, hops, query, strength):
        slots = []  # (key, value)
        for s in range(t):
            slots.append((R.keys(psi[b, s]), psi[b, s]))
        if P > 0 and (t == 0 or not cfg.conditional):
            for j in range(P):
                slots.append((R.pseudo.key[j], R.pseudo.value[j]))
        h = R.h0
        if hops == 0:
            r = sum(v for _, v in slots) / len(slots) if slots else torch.zeros(F_SIZE, dtype=psi.dtype)
            return r, R.gru_step(torch.cat([r, h]), h)
        r = None
        for _ in range(hops):
            q = query(h)
            beta = min(max(float(strength(h)), 1e-10), 10.0)
            if not slots:
                r = torch.zeros(F_SIZE, dtype=psi.dtype)
            else:
                sims = []
                for k, _ in slots:
                    d = float(q @ k)
                    if cfg.similarity == 'cosine':
                        d = d / max(float(q.norm()) * float(k.norm()), 1e-8)
                    sims.append(beta * d)
                mx = max(sims)
                e = [math.exp(v - mx) for v in sims]
                r = sum(w / sum(e) * v for w, (_, v) in zip(e, slots))
            h = R.gru_step(torch.cat([r, h]), h)
        return r, h

    rows = []
    for b in range(B):
        for t in range(T):
            n = b * T + t
            p_t = psi[b, t]
            rq, hq = one_read(model.shared, b, t, cfg.hops,
                              lambda h: linear(torch.cat([h, p_t]), model.rec.query.weight, model.rec.query.bias),
                              lambda h: linear(h, model.rec.strength.weight, model.rec.strength.bias), )
            ri = torch.cat([p_t, rq, hq])
            mu_q = linear(ri, model.rec.mu.weight, model.rec.mu.bias)
            sq = Fn.softplus(torch.clamp(linear(ri, model.rec.sigma.weight, model.rec.sigma.bias), -10, 10))
            z = mu_q + sq * eps[n]
            pr = model.prior
            rp, hp = one_read(pr, b, t, cfg.prior_hops, lambda h: linear(h, pr.query.weight, pr.query.bias),
                              lambda h: linear(h, pr.strength.weight, pr.strength.bias))
            a = prelu(linear(torch.cat([rp, hp]), pr.hidden.weight, pr.hidden.bias), pr.hidden.slope, -1)
            mu_p = linear(a, pr.mu.weight, pr.mu.bias)
            sp = Fn.softplus(torch.clamp(linear(a, pr.sigma.weight, pr.sigma.bias), -10, 10))
            rg, hg = one_read(model.shared, b, t, cfg.hops,
                              lambda h: linear(torch.cat([h, z]), model.gen.query.weight, model.gen.query.bias),
                              lambda h: linear(h, model.gen.strength.weight, model.gen.strength.bias))
            logits = model.dec(torch.cat([z, rg, hg])[None])[0]
            xn = x[b, t]
            t0 = float((xn * logits - Fn.softplus(logits)).sum())
            t1 = float(sum(-0.5 * (((z[i] - mu_p[i]) / sp[i]) ** 2 + math.log(2 * math.pi) + 2 * math.log(sp[i]))
                           for i in range(cfg.latent)))
            t2 = float(sum(-0.5 * (((z[i] - mu_q[i]) / sq[i]) ** 2 + math.log(2 * math.pi) + 2 * math.log(sq[i]))
                           for i in range(cfg.latent)))
            rows.append([t0, t1, t2])
    terms = torch.tensor(rows, dtype=torch.float64)
    loss = 0.0
    for b in range(B):
        for t in range(T):
            if cfg.conditional and t < cfg.max_classes:
                continue
            t0, t1, t2 = rows[b * T + t]
            loss -= (t0 + t1 - t2) / B
    return terms, loss


def _np_conv(x, w, stride=1, pad_after_only=False):
    """Naive numpy cross-correlation: x [Ci, H, W], w [Co, Ci, k, k]; VALID, or TF SAME (stride 1)
    when pad_after_only is not False (then it is the (top, bottom) padding)."""
    if pad_after_only is not False:
        top, bottom = pad_after_only
        x = np.pad(x, ((0, 0), (top, bottom), (top, bottom)))
    ci, hh, ww = x.shape
    co, _, k, _ = w.shape
    oh, ow = (hh - k) // stride + 1, (ww - k) // stride + 1
    out = np.zeros((co, oh, ow))
    for o in range(co):
        for i in range(oh):
            for j in range(ow):
                out[o, i, j] = np.sum(x[:, i * stride:i * stride + k, j * stride:j * stride + k] * w[o])
    return out


def _np_convT(x, w, stride):
    """Naive transposed conv as a scatter: x [Ci, H, W], w [Ci, Co, k, k]."""
    ci, hh, ww = x.shape
    _, co, k, _ = w.shape
    out = np.zeros((co, (hh - 1) * stride + k, (ww - 1) * stride + k))
    for c in range(ci):
        for i in range(hh):
            for j in range(ww):
                out[:, i * stride:i * stride + k, j * stride:j * stride + k] += x[c, i, j] * w[c]
    return out


def _np_prelu(x, slope):
    return np.where(x > 0, x, slope[:, None, None] * x)


def _np_resize(x, oh, ow):
    c, hh, ww = x.shape
    out = np.zeros((c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            sy, sx = i * hh / oh, j * ww / ow
            y0, x0 = int(np.floor(sy)), int(np.floor(sx))
            y1, x1 = min(y0 + 1, hh - 1), min(x0 + 1, ww - 1)
            fy, fx = sy - y0, sx - x0
            out[:, i, j] = ((x[:, y0, x0] * (1 - fx) + x[:, y0, x1] * fx) * (1 - fy)
                            + (x[:, y1, x0] * (1 - fx) + x[:, y1, x1] * fx) * fy)
    return out


def _np_sections(model, img, code):
    """Encoder of one image and decoder of one code with the numpy loops above."""
    P = {n: p.detach().double().numpy() for n, p in model.named_parameters()}
    h = img.reshape(1, 28, 28)
    for i, (ci, co, k, kb) in enumerate(ENC_SECTIONS, 1):
        s = f'enc.s{i}'
        a = _np_prelu(_np_conv(h, P[f'{s}.conv.weight'], 2), P[f'{s}.conv.slope'])
        a = _np_prelu(a + _np_conv(a, P[f'{s}.block.weight'], 1, ((kb - 1) // 2, kb - 1 - (kb - 1) // 2)),
                      P[f'{s}.block.slope'])
        sc = _np_conv(h, P[f'{s}.shortcut.weight'])
        pooled = np.zeros_like(a)
        for y in range(a.shape[1]):
            for x in range(a.shape[2]):
                pooled[:, y, x] = sc[:, 2 * y:2 * y + k, 2 * x:2 * x + k].mean(axis=(1, 2))
        h = a + pooled
    psi = h.reshape(-1)
    d = (P['dec.in.weight'] @ code + P['dec.in.bias']).reshape(32, 3, 3)
    for i, (ci, co, k, kb) in enumerate(DEC_SECTIONS, 1):
        s = f'dec.s{i}'
        a = _np_prelu(_np_convT(d, P[f'{s}.conv.weight'], 2), P[f'{s}.conv.slope'])
        a = _np_prelu(a + _np_conv(a, P[f'{s}.block.weight'], 1, ((kb - 1) // 2, kb - 1 - (kb - 1) // 2)),
                      P[f'{s}.block.slope'])
        d = a + _np_resize(_np_convT(d, P[f'{s}.shortcut.weight'], 1), a.shape[1], a.shape[2])
    logits = _np_conv(d, P['dec.out.weight']).reshape(-1)
    return psi, logits


TINY_CONFIGS = [
    Config(hops=2, prior_hops=1, pseudo_inputs=1, similarity='dot', latent=4, state_size=6, key_size=5,
           conditional=False, episode_length=3, max_classes=2, batch_size=2),
    Config(hops=0, prior_hops=2, pseudo_inputs=2, similarity='cosine', latent=4, state_size=6, key_size=5,
           conditional=True, episode_length=4, max_classes=2, batch_size=2),
    Config(hops=1, prior_hops=0, pseudo_inputs=0, similarity='cosine', latent=3, state_size=5, key_size=4,
           conditional=False, episode_length=3, max_classes=2, batch_size=1),
]


def cmd_selfcheck(args):
    report = {}
    paper = Config()
    report['paper_parameter_count'] = count_parameters(paper)

    # shapes
    m = GMN(paper).initialise(0)
    x, eps = draw_inputs(Config(batch_size=1, episode_length=3), 0)
    with torch.no_grad():
        trace = []
        psi = m.enc(x.reshape(-1, IMAGE), trace)
        report['encoder_shapes'] = [list(s) for s in trace]
        trace = []
        m.dec(torch.zeros(2, paper.latent + F_SIZE + paper.state_size), trace)
        report['decoder_shapes'] = [list(s) for s in trace]
        report['psi_shape'] = list(psi.shape)

    # ELBO terms at initialisation, paper config (float64)
    m64 = GMN(paper).initialise(0).double()
    x, eps = draw_inputs(paper, 0, torch.float64)
    with torch.no_grad():
        out = m64(x, eps)
        terms, loss = loss_terms(m64, x, eps)
    report['paper_init'] = {
        'log_px_mean': float(terms[:, 0].mean()), 'log_px_min': float(terms[:, 0].min()),
        'log_px_max': float(terms[:, 0].max()), 'log_pz_mean': float(terms[:, 1].mean()),
        'log_qz_mean': float(terms[:, 2].mean()), 'loss': float(loss),
        'logit_abs_mean': float(out['logits'].abs().mean()), 'sigma_q_mean': float(out['sigma_q'].mean()),
        'sigma_p_mean': float(out['sigma_p'].mean()), 'all_finite': bool(torch.isfinite(terms).all()),
        'minus_784_log2': -784 * math.log(2)}

    # legacy resize against a direct per-pixel evaluation
    a = torch.arange(6 * 6, dtype=torch.float64).reshape(1, 1, 6, 6) ** 1.5
    b = resize_bilinear_legacy(a, 13, 13)
    ref = torch.zeros(13, 13, dtype=torch.float64)
    for i in range(13):
        for j in range(13):
            sy, sx = i * 6 / 13, j * 6 / 13
            y0, x0 = int(sy), int(sx)
            y1, x1 = min(y0 + 1, 5), min(x0 + 1, 5)
            fy, fx = sy - y0, sx - x0
            top = a[0, 0, y0, x0] * (1 - fx) + a[0, 0, y0, x1] * fx
            bot = a[0, 0, y1, x0] * (1 - fx) + a[0, 0, y1, x1] * fx
            ref[i, j] = top * (1 - fy) + bot * fy
    report['resize_max_err'] = float((b[0, 0] - ref).abs().max())

    # encoder / decoder vs naive numpy loops (TF semantics written out)
    model = GMN(paper).initialise(3).double()
    _perturb(model, 7)
    img = (torch.rand(784, generator=torch.Generator().manual_seed(5)) < 0.3).double()
    code = torch.randn(paper.latent + F_SIZE + paper.state_size, generator=torch.Generator().manual_seed(6),
                       dtype=torch.float64)
    with torch.no_grad():
        psi_t = model.enc(img[None])[0].numpy()
        logits_t = model.dec(code[None])[0].numpy()
    psi_n, logits_n = _np_sections(model, img.numpy(), code.numpy())
    report['enc_dec_vs_numpy_loops'] = {'psi_max_abs_diff': float(np.abs(psi_t - psi_n).max()),
                                        'logits_max_abs_diff': float(np.abs(logits_t - logits_n).max()),
                                        'logits_abs_max': float(np.abs(logits_n).max())}

    # vectorised forward vs a row-by-row loop
    report['naive_vs_vectorised'] = []
    for k, cfg in enumerate(TINY_CONFIGS):
        for perturbed in (False, True):
            model = GMN(cfg).initialise(k).double()
            if perturbed:
                _perturb(model, 200 + k)
            x, eps = draw_inputs(cfg, k, torch.float64)
            with torch.no_grad():
                terms, loss = loss_terms(model, x, eps)
                nterms, nloss = _naive_forward(model, x, eps)
            report['naive_vs_vectorised'].append({'config': k, 'perturbed': perturbed,
                                                  'terms_max_abs_diff': float((terms - nterms).abs().max()),
                                                  'loss_abs_diff': abs(float(loss) - nloss)})

    # gradient checks in float64 on tiny configs, at the initial point and perturbed away from it
    rng = np.random.default_rng(0)
    report['finite_differences'] = []
    report['gradcheck'] = []
    for k, cfg in enumerate(TINY_CONFIGS):
        for perturbed in (False, True):
            model = GMN(cfg).initialise(k).double()
            if perturbed:
                _perturb(model, 200 + k)
            x, eps = draw_inputs(cfg, k, torch.float64)
            fd = _check_fd(model, x, eps, rng, per_tensor=4, full_up_to=64)
            report['finite_differences'].append({'config': k, 'perturbed': perturbed, **fd})
            if not args.no_gradcheck:
                gc = _gradcheck(model, x, eps, args.gradcheck_max_entries)
                report['gradcheck'].append({'config': k, 'perturbed': perturbed, **gc})

    # unused parameters get zero (not missing) gradients with hops = 0
    cfg = TINY_CONFIGS[1]
    model = GMN(cfg).initialise(1).double()
    x, eps = draw_inputs(cfg, 1, torch.float64)
    g = grads_of(model, loss_terms(model, x, eps)[1])
    report['hops0_unused_grad_maxabs'] = {n: float(g[n].abs().max()) for n in
                                          ('rec.query.weight', 'rec.query.bias', 'rec.strength.weight',
                                           'rec.strength.bias', 'gen.query.weight', 'gen.strength.weight',
                                           'shared.key.weight', 'shared.pseudo.key')}
    print(json.dumps(report, indent=1))


def main(argv=None):
    ap = argparse.ArgumentParser(description='PyTorch reference of the GMN model (docs/model.md)')
    sub = ap.add_subparsers(dest='cmd', required=True)
    g = sub.add_parser('golden', help='write a fixture: params, inputs, terms, loss, float64 gradients')
    g.add_argument('--config', required=True)
    g.add_argument('--out', required=True)
    g.add_argument('--weights', default=None)
    g.add_argument('--seed', type=int, default=0)
    s = sub.add_parser('step-time', help='time float32 training steps (forward, backward, Adam)')
    s.add_argument('--config', default=None, help='JSON config (default: the paper configuration)')
    s.add_argument('--steps', type=int, default=10)
    s.add_argument('--warmup', type=int, default=2)
    c = sub.add_parser('count', help='number of parameters for a config')
    c.add_argument('--config', default=None)
    k = sub.add_parser('selfcheck', help='gradient checks, shapes, parameter count, terms at initialisation')
    k.add_argument('--no-gradcheck', action='store_true', help='finite differences only (fast)')
    k.add_argument('--gradcheck-max-entries', type=int, default=600,
                   help='torch.autograd.gradcheck over parameter tensors up to this size')
    args = ap.parse_args(argv)
    {'golden': cmd_golden, 'step-time': cmd_step_time, 'count': cmd_count,
     'selfcheck': cmd_selfcheck}[args.cmd](args)


if __name__ == '__main__':
    main()
