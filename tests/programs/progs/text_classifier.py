"""Modelled on PyTorch's text-classification tutorials (an embedding of token ids, a small 1-d
convolutional encoder, a linear classifier trained with cross-entropy) plus a multi-label head
trained with BCEWithLogitsLoss, as a topic tagger would be. The tutorial's dataset download is
replaced by seeded synthetic "sentences": the class is which keyword token a sentence holds,
the tags are whether it holds any of two marker tokens. Uses Embedding (padding_idx),
LayerNorm, Conv1d, GELU, MaxPool1d, AdaptiveAvgPool1d, SiLU, Dropout2d (p=0 in eval), F.pad,
F.normalize, BCEWithLogitsLoss with pos_weight, and Adam."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.programs.support import init_, record

VOCAB, SEQ, CLASSES, PAD = 40, 12, 4, 0
rng = np.random.default_rng(0)


def make_batch(n):
    tokens = rng.integers(10, VOCAB, (n, SEQ))
    labels = rng.integers(0, CLASSES, n)
    tokens[np.arange(n), rng.integers(0, SEQ // 2, n)] = 1 + labels       # keyword: the class
    tags = rng.random((n, 2)) < 0.3
    for j in range(2):                                                     # markers 6 and 7
        tokens[tags[:, j], SEQ - 1 - j] = 6 + j
    lengths = rng.integers(SEQ - 3, SEQ + 1, n)
    tokens[np.arange(SEQ)[None, :] >= lengths[:, None]] = PAD              # padded tails
    return (torch.from_numpy(tokens.astype(np.int64)), torch.from_numpy(labels.astype(np.int64)),
            torch.from_numpy(tags.astype(np.float32)))


class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_dim=16, hidden=24, num_class=CLASSES):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.norm = nn.LayerNorm(embed_dim)
        self.conv = nn.Conv1d(embed_dim, hidden, kernel_size=3, padding=1)
        self.act = nn.GELU()
        self.pool = nn.MaxPool1d(2)
        self.drop = nn.Dropout2d(p=0.0)
        self.global_pool = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(hidden, num_class)
        self.tagger = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 2))

    def forward(self, text):
        x = self.norm(self.embedding(text))             # (N, L, E)
        x = F.pad(x.transpose(1, 2), (0, 1))            # (N, E, L + 1): odd length for the pool
        x = self.pool(self.act(self.conv(x)))
        x = self.drop(x.unsqueeze(-1)).squeeze(-1)
        features = self.global_pool(x).flatten(1)       # (N, hidden)
        return self.fc(features), self.tagger(F.normalize(features, dim=1) * 4)


model = init_(TextCNN(VOCAB))
with torch.no_grad():
    model.embedding.weight[PAD].fill_(0)
print(model)
criterion = nn.CrossEntropyLoss()
tag_criterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 2.0]))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

for step in range(40):
    text, label, tags = make_batch(32)
    model.train()
    optimizer.zero_grad()
    logits, tag_logits = model(text)
    loss = criterion(logits, label) + 0.5 * tag_criterion(tag_logits, tags)
    loss.backward()
    optimizer.step()
    record(loss)
    if step % 10 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")

model.eval()
text, label, tags = make_batch(64)
with torch.no_grad():
    logits, tag_logits = model(text)
accuracy = (logits.argmax(1) == label).float().mean()
record(accuracy, name="accuracy")
record(torch.sigmoid(tag_logits), name="tag_probabilities")
record(model.embedding.weight[PAD], name="padding_row_stays_zero")
print(f"accuracy {accuracy.item():.3f}")
