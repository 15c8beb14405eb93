"""Modelled on PyTorch's "Chatbot Tutorial" (seq2seq with Luong attention): a bidirectional GRU
encoder over an embedded, zero-padded batch through pack_padded_sequence / pad_packed_sequence,
the two directions summed; a GRU decoder stepped one token at a time with "general" attention
(bmm over the encoder outputs), concat -> tanh -> Linear -> softmax; the tutorial's maskNLLLoss
(gather, log, masked_select); teacher forcing; gradient clipping and two Adam optimizers. The
corpus (a copy-and-reverse task over a 12-word vocabulary) and the weights are seeded here, the
dropouts are 0, so both frameworks take the same steps."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim

from tests.programs.support import init_, record

PAD_token, SOS_token, EOS_token = 0, 1, 2
voc_words = 12
rng = np.random.default_rng(7)


def make_pairs(n):
    pairs = []
    for _ in range(n):
        length = int(rng.integers(2, 7))
        words = [int(w) for w in rng.integers(3, voc_words, length)]
        pairs.append((words, words[::-1]))
    return pairs


def zeroPadding(l, fillvalue=PAD_token):
    longest = max(len(s) for s in l)
    return [[s[i] if i < len(s) else fillvalue for s in l] for i in range(longest)]


def binaryMatrix(l):
    return [[token != PAD_token for token in seq] for seq in l]


def inputVar(batch):
    indexes_batch = [s + [EOS_token] for s in batch]
    lengths = torch.tensor([len(indexes) for indexes in indexes_batch])
    padVar = torch.LongTensor(zeroPadding(indexes_batch))
    return padVar, lengths


def outputVar(batch):
    indexes_batch = [s + [EOS_token] for s in batch]
    max_target_len = max([len(indexes) for indexes in indexes_batch])
    padList = zeroPadding(indexes_batch)
    mask = torch.BoolTensor(binaryMatrix(padList))
    padVar = torch.LongTensor(padList)
    return padVar, mask, max_target_len


def batch2TrainData(pair_batch):
    pair_batch.sort(key=lambda x: len(x[0]), reverse=True)
    input_batch, output_batch = [p[0] for p in pair_batch], [p[1] for p in pair_batch]
    inp, lengths = inputVar(input_batch)
    output, mask, max_target_len = outputVar(output_batch)
    return inp, lengths, output, mask, max_target_len


class EncoderRNN(nn.Module):
    def __init__(self, hidden_size, embedding, n_layers=1, dropout=0):
        super().__init__()
        self.n_layers = n_layers
        self.hidden_size = hidden_size
        self.embedding = embedding
        self.gru = nn.GRU(hidden_size, hidden_size, n_layers,
                          dropout=(0 if n_layers == 1 else dropout), bidirectional=True)

    def forward(self, input_seq, input_lengths, hidden=None):
        embedded = self.embedding(input_seq)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, input_lengths)
        outputs, hidden = self.gru(packed, hidden)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs)
        outputs = outputs[:, :, :self.hidden_size] + outputs[:, :, self.hidden_size:]
        return outputs, hidden


class Attn(nn.Module):
    def __init__(self, method, hidden_size):
        super().__init__()
        self.method = method
        self.hidden_size = hidden_size
        self.attn = nn.Linear(self.hidden_size, hidden_size)

    def general_score(self, hidden, encoder_output):
        energy = self.attn(encoder_output)
        return torch.sum(hidden * energy, dim=2)

    def forward(self, hidden, encoder_outputs):
        attn_energies = self.general_score(hidden, encoder_outputs)
        attn_energies = attn_energies.t()
        return F.softmax(attn_energies, dim=1).unsqueeze(1)


class LuongAttnDecoderRNN(nn.Module):
    def __init__(self, attn_model, embedding, hidden_size, output_size, n_layers=1, dropout=0.1):
        super().__init__()
        self.attn_model = attn_model
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.n_layers = n_layers
        self.dropout = dropout
        self.embedding = embedding
        self.embedding_dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(hidden_size, hidden_size, n_layers,
                          dropout=(0 if n_layers == 1 else dropout))
        self.concat = nn.Linear(hidden_size * 2, hidden_size)
        self.out = nn.Linear(hidden_size, output_size)
        self.attn = Attn(attn_model, hidden_size)

    def forward(self, input_step, last_hidden, encoder_outputs):
        embedded = self.embedding(input_step)
        embedded = self.embedding_dropout(embedded)
        rnn_output, hidden = self.gru(embedded, last_hidden)
        attn_weights = self.attn(rnn_output, encoder_outputs)
        context = attn_weights.bmm(encoder_outputs.transpose(0, 1))
        rnn_output = rnn_output.squeeze(0)
        context = context.squeeze(1)
        concat_input = torch.cat((rnn_output, context), 1)
        concat_output = torch.tanh(self.concat(concat_input))
        output = self.out(concat_output)
        output = F.softmax(output, dim=1)
        return output, hidden


def maskNLLLoss(inp, target, mask):
    nTotal = mask.sum()
    crossEntropy = -torch.log(torch.gather(inp, 1, target.view(-1, 1)).squeeze(1))
    loss = crossEntropy.masked_select(mask).mean()
    return loss, nTotal.item()


def train(input_variable, lengths, target_variable, mask, max_target_len, encoder, decoder,
          encoder_optimizer, decoder_optimizer, batch_size, clip):
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    lengths = lengths.to("cpu")
    loss = 0
    print_losses = []
    n_totals = 0
    encoder_outputs, encoder_hidden = encoder(input_variable, lengths)
    decoder_input = torch.LongTensor([[SOS_token for _ in range(batch_size)]])
    decoder_hidden = encoder_hidden[:decoder.n_layers]
    for t in range(max_target_len):   # teacher forcing throughout
        decoder_output, decoder_hidden = decoder(decoder_input, decoder_hidden, encoder_outputs)
        decoder_input = target_variable[t].view(1, -1)
        mask_loss, nTotal = maskNLLLoss(decoder_output, target_variable[t], mask[t])
        loss += mask_loss
        print_losses.append(mask_loss.item() * nTotal)
        n_totals += nTotal
    loss.backward()
    _ = nn.utils.clip_grad_norm_(encoder.parameters(), clip)
    _ = nn.utils.clip_grad_norm_(decoder.parameters(), clip)
    encoder_optimizer.step()
    decoder_optimizer.step()
    return sum(print_losses) / n_totals


hidden_size, batch_size, clip = 16, 8, 50.0
embedding = nn.Embedding(voc_words, hidden_size)
encoder = EncoderRNN(hidden_size, embedding)
decoder = LuongAttnDecoderRNN("general", embedding, hidden_size, voc_words, dropout=0.0)
init_(encoder)
init_(decoder)
encoder.train()
decoder.train()
encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.005)
decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.005 * 5.0)
pairs = make_pairs(8 * 12)
for iteration in range(12):
    batch = batch2TrainData(pairs[iteration * batch_size:(iteration + 1) * batch_size])
    input_variable, lengths, target_variable, mask, max_target_len = batch
    loss = train(input_variable, lengths, target_variable, mask, max_target_len, encoder,
                 decoder, encoder_optimizer, decoder_optimizer, batch_size, clip)
    record(loss)
    print(f"Iteration: {iteration + 1}; Average loss: {loss:.4f}")

# greedy decoding of one sentence, as the tutorial's GreedySearchDecoder does
encoder.eval()
decoder.eval()
with torch.no_grad():
    words = pairs[0][0]
    input_batch = torch.LongTensor([words + [EOS_token]]).transpose(0, 1)
    lengths = torch.tensor([len(words) + 1])
    encoder_outputs, encoder_hidden = encoder(input_batch, lengths)
    decoder_hidden = encoder_hidden[:decoder.n_layers]
    decoder_input = torch.ones(1, 1, dtype=torch.long) * SOS_token
    all_tokens = torch.zeros([0], dtype=torch.long)
    all_scores = torch.zeros([0])
    for _ in range(8):
        decoder_output, decoder_hidden = decoder(decoder_input, decoder_hidden, encoder_outputs)
        decoder_scores, decoder_input = torch.max(decoder_output, dim=1)
        all_tokens = torch.cat((all_tokens, decoder_input), dim=0)
        all_scores = torch.cat((all_scores, decoder_scores), dim=0)
        decoder_input = torch.unsqueeze(decoder_input, 0)
record(all_scores, name="greedy_scores")
record(all_tokens.float(), name="greedy_tokens")
