"""Modelled on PyTorch's "Language Modeling with nn.Transformer and torchtext" tutorial: a
PositionalEncoding module (sin/cos buffer), TransformerEncoder over TransformerEncoderLayers with
the square subsequent mask, the tutorial's batchify/get_batch (bptt chunks of a (seq, batch)
token matrix), its train loop (CrossEntropyLoss on the flattened output, clip_grad_norm_ 0.5,
SGD lr 5 with StepLR gamma 0.95) and evaluate loop (no_grad, loss weighted by chunk length),
the best model kept by deepcopy. The WikiText-2 download is replaced by a seeded synthetic token
stream with structure to learn; dropout is 0 so both frameworks draw nothing random."""
import copy
import math

import numpy as np
import torch
from torch import nn
from torch.nn import TransformerEncoder, TransformerEncoderLayer

from tests.programs.support import init_, record

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class PositionalEncoding(nn.Module):
    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        """x: Tensor, shape ``[seq_len, batch_size, embedding_dim]``"""
        x = x + self.pe[:x.size(0)]
        return self.dropout(x)


class TransformerModel(nn.Module):
    def __init__(self, ntoken: int, d_model: int, nhead: int, d_hid: int, nlayers: int,
                 dropout: float = 0.5):
        super().__init__()
        self.model_type = "Transformer"
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        encoder_layers = TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = TransformerEncoder(encoder_layers, nlayers)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = nn.Linear(d_model, ntoken)
        self.init_weights()

    def init_weights(self) -> None:
        initrange = 0.1
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.linear.bias.data.zero_()
        self.linear.weight.data.uniform_(-initrange, initrange)

    def forward(self, src, src_mask=None):
        """src: ``[seq_len, batch_size]``; returns ``[seq_len, batch_size, ntoken]``"""
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        if src_mask is None:
            src_mask = nn.Transformer.generate_square_subsequent_mask(len(src)).to(device)
        output = self.transformer_encoder(src, src_mask)
        output = self.linear(output)
        return output


def synthetic_corpus(n, ntokens, seed):
    """A token stream where the next token is mostly (3 * token + 1) mod ntokens."""
    rng = np.random.default_rng(seed)
    tokens = np.empty(n, dtype=np.int64)
    tokens[0] = 0
    noise = rng.random(n) < 0.2
    random_tokens = rng.integers(0, ntokens, n)
    for i in range(1, n):
        tokens[i] = random_tokens[i] if noise[i] else (3 * tokens[i - 1] + 1) % ntokens
    return [torch.tensor(tokens[j:j + 50], dtype=torch.long) for j in range(0, n, 50)]


def data_process(pieces):
    return torch.cat(tuple(filter(lambda t: t.numel() > 0, pieces)))


def batchify(data, bsz: int):
    """Divides the data into ``bsz`` separate sequences, removing extra elements that wouldn't
    cleanly fit; returns a ``[N // bsz, bsz]`` tensor."""
    seq_len = data.size(0) // bsz
    data = data[:seq_len * bsz]
    data = data.view(bsz, seq_len).t().contiguous()
    return data.to(device)


ntokens = 24
train_data = batchify(data_process(synthetic_corpus(1200, ntokens, seed=0)), 10)
val_data = batchify(data_process(synthetic_corpus(300, ntokens, seed=1)), 5)

bptt = 20


def get_batch(source, i: int):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].reshape(-1)
    return data, target


emsize, d_hid, nlayers, nhead, dropout = 32, 64, 2, 2, 0.0
model = TransformerModel(ntokens, emsize, nhead, d_hid, nlayers, dropout).to(device)
init_(model)   # the same initial weights in both frameworks
print(model)

criterion = nn.CrossEntropyLoss()
lr = 5.0
optimizer = torch.optim.SGD(model.parameters(), lr=lr)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)


def train(model: nn.Module) -> None:
    model.train()
    total_loss = 0.
    log_interval = 3
    num_batches = len(train_data) // bptt
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i)
        output = model(data)
        output_flat = output.view(-1, ntokens)
        loss = criterion(output_flat, targets)

        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        record(loss)

        total_loss += loss.item()
        if batch % log_interval == 0 and batch > 0:
            lr = scheduler.get_last_lr()[0]
            cur_loss = total_loss / log_interval
            print(f"| epoch {epoch:3d} | {batch:5d}/{num_batches:5d} batches | lr {lr:02.2f} "
                  f"| loss {cur_loss:5.2f} | ppl {math.exp(cur_loss):8.2f}")
            total_loss = 0


def evaluate(model: nn.Module, eval_data) -> float:
    model.eval()
    total_loss = 0.
    with torch.no_grad():
        for i in range(0, eval_data.size(0) - 1, bptt):
            data, targets = get_batch(eval_data, i)
            seq_len = data.size(0)
            output = model(data)
            output_flat = output.view(-1, ntokens)
            total_loss += seq_len * criterion(output_flat, targets).item()
    return total_loss / (len(eval_data) - 1)


best_val_loss = float("inf")
best_model = None
for epoch in range(1, 4):
    train(model)
    val_loss = evaluate(model, val_data)
    record(val_loss)
    print(f"| end of epoch {epoch:3d} | valid loss {val_loss:5.2f} | "
          f"valid ppl {math.exp(val_loss):8.2f}")
    if val_loss < best_val_loss:
        best_val_loss = val_loss
        best_model = copy.deepcopy(model)
    scheduler.step()

test_loss = evaluate(best_model, val_data)
record(test_loss, name="best_model_val_loss")
with torch.no_grad():
    best_model.eval()
    prompt = val_data[:8, :2]
    record(best_model(prompt).argmax(-1), name="greedy_next_tokens")
