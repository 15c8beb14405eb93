"""Modelled on PyTorch's "Sequence Models and Long Short-Term Memory Networks": an LSTM stepped
one element at a time with an explicit (h, c), the same LSTM over the whole sequence at once,
and the part-of-speech tagger (word_to_ix, prepare_sequence, Embedding -> LSTM -> Linear ->
log_softmax, NLLLoss, SGD lr=0.1) trained for a few hundred steps. The tutorial's torch.randn
inputs come from a seeded numpy generator, its initial weights from init_."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

from tests.programs.support import init_, record

torch.manual_seed(1)
rng = np.random.default_rng(1)


def randn(*shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


lstm = init_(nn.LSTM(3, 3))  # Input dim is 3, output dim is 3
inputs = [randn(1, 3) for _ in range(5)]  # make a sequence of length 5
hidden = (randn(1, 1, 3), randn(1, 1, 3))
for i in inputs:
    out, hidden = lstm(i.view(1, 1, -1), hidden)
record(out, name="stepped_out")

inputs = torch.cat(inputs).view(len(inputs), 1, -1)
hidden = (randn(1, 1, 3), randn(1, 1, 3))  # clean out hidden state
out, hidden = lstm(inputs, hidden)
print(out)
print(hidden)
record(out, name="sequence_out")
record(hidden[1], name="sequence_cell")


def prepare_sequence(seq, to_ix):
    idxs = [to_ix[w] for w in seq]
    return torch.tensor(idxs, dtype=torch.long)


training_data = [
    ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
    ("Everybody read that book".split(), ["NN", "V", "DET", "NN"])
]
word_to_ix = {}
for sent, tags in training_data:
    for word in sent:
        if word not in word_to_ix:
            word_to_ix[word] = len(word_to_ix)
print(word_to_ix)
tag_to_ix = {"DET": 0, "NN": 1, "V": 2}
EMBEDDING_DIM = 6
HIDDEN_DIM = 6


class LSTMTagger(nn.Module):

    def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
        super(LSTMTagger, self).__init__()
        self.hidden_dim = hidden_dim
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
        tag_scores = F.log_softmax(tag_space, dim=1)
        return tag_scores


model = init_(LSTMTagger(EMBEDDING_DIM, HIDDEN_DIM, len(word_to_ix), len(tag_to_ix)))
loss_function = nn.NLLLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1)

with torch.no_grad():
    inputs = prepare_sequence(training_data[0][0], word_to_ix)
    tag_scores = model(inputs)
    print(tag_scores)

for epoch in range(100):
    for sentence, tags in training_data:
        model.zero_grad()
        sentence_in = prepare_sequence(sentence, word_to_ix)
        targets = prepare_sequence(tags, tag_to_ix)
        tag_scores = model(sentence_in)
        loss = loss_function(tag_scores, targets)
        loss.backward()
        optimizer.step()
        if epoch % 10 == 0:
            record(loss)

with torch.no_grad():
    inputs = prepare_sequence(training_data[0][0], word_to_ix)
    tag_scores = model(inputs)
    print(tag_scores)
    record(tag_scores, name="trained_tag_scores")
    record(tag_scores.argmax(1), name="predicted_tags")
