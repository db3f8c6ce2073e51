#include "model/model.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "tensor/matmul.h"

namespace ead::model {

std::shared_ptr<const Model> Model::load(const std::string& path, const ModelOptions& opts) {
    return from_file(gguf::File::open(path), opts);
}

std::shared_ptr<const Model> Model::from_file(gguf::File file, const ModelOptions& opts) {
    std::shared_ptr<Model> m(new Model());
    m->file_ = std::make_unique<gguf::File>(std::move(file));
    const gguf::File& f = *m->file_;

    const std::string arch_name = f.get_string("general.architecture");
    m->arch_ = &find_architecture(arch_name, f.path());
    const Architecture& arch = *m->arch_;
    HParams& hp = m->hp_;
    hp = read_common_hparams(f, arch_name);
    if (arch.read_hparams) arch.read_hparams(f, hp);

    const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
    if (!embd) throw gguf::Error(f.path() + ": tensor 'token_embd.weight' is missing");
    if (embd->n_dims != 2 || embd->ne[1] <= 0 || embd->ne[1] > (1 << 24)) {
        throw gguf::Error(f.path() + ": tensor 'token_embd.weight' has shape " + embd->shape_string() +
                          ", expected [n_embd, n_vocab]");
    }
    hp.n_vocab = static_cast<int>(embd->ne[1]);

    TensorLoader loader(f, hp);
    for (const GlobalTensorSpec& s : arch.global_tensors) {
        m->globals_.*s.slot = loader.require_tensor(s.name, s.ne0, s.ne1, s.flags);
        if (!(m->globals_.*s.slot).present() && (s.flags & kTiedToEmbedding)) {
            m->globals_.*s.slot = m->globals_.token_embd;
            m->tied_ = true;
        }
    }
    m->layers_.resize(static_cast<size_t>(hp.n_layer));
    for (int il = 0; il < hp.n_layer; ++il) {
        for (const LayerTensorSpec& s : arch.layer_tensors) {
            m->layers_[il].*s.slot = loader.require_tensor(layer_tensor_name(s.name, il), s.ne0, s.ne1, s.flags);
        }
    }
    m->owned_ = loader.take_owned();

    for (const gguf::TensorInfo& t : f.tensors()) {
        m->n_params_ += t.n_elements();
        m->weight_bytes_ += t.n_bytes;
    }
    auto count = [&](const Weight& w) {
        m->n_params_matmul_ += w.n_elements();
        m->decode_weight_bytes_ += w.info->n_bytes;
    };
    for (const LayerWeights& l : m->layers_) {
        for (const Weight* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) count(*w);
    }
    count(m->globals_.output);

    // Matrices move into one buffer of the model's own (huge pages: tensor/memory.h), interleaved where a kernel
    // exists for that, each at a 64-byte boundary. One buffer, not one per matrix, so that no matrix rounds up to
    // a whole huge page of its own.
    std::vector<Weight*> matrices;
    for (LayerWeights& l : m->layers_) {
        for (Weight* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) matrices.push_back(w);
    }
    matrices.push_back(&m->globals_.output);  // a tied output gets its own copy; token_embd stays in the file
    auto interleaved = [&](const Weight& w) {
        return opts.interleave && tensor::can_interleave(w.type, w.rows, w.cols);
    };
    auto copy_size = [&](const Weight& w) -> size_t {
        if (interleaved(w)) return tensor::interleaved_bytes(w.type, w.rows, w.cols);
        return opts.copy_weights ? w.info->n_bytes : 0;
    };
    size_t total = 0;
    for (const Weight* w : matrices) total += (copy_size(*w) + 63) / 64 * 64;
    if (total > 0) {
        m->copies_ = tensor::alloc_weight_buffer(total);
        uint8_t* next = m->copies_.get();
        for (Weight* w : matrices) {
            const size_t size = copy_size(*w);
            if (size == 0) continue;
            if (interleaved(*w)) {
                tensor::interleave_rows(w->type, w->data, w->rows, w->cols, next);
                w->layout = tensor::WeightLayout::kInterleaved8;
                m->interleaved_bytes_ += size;
            } else {
                std::memcpy(next, w->data, size);
            }
            f.release_pages(w->data, w->info->n_bytes);  // the copy is used from now on (embedding rows re-fault)
            w->data = next;
            m->copied_bytes_ += size;
            next += (size + 63) / 64 * 64;
        }
    }

    if (opts.verbose) std::fprintf(stderr, "%s\n", m->summary().c_str());
    return m;
}

size_t Model::kv_bytes_per_token(tensor::TensorType kv_type) const {
    const size_t elt = kv_type == tensor::TensorType::kF32 ? 4 : 2;
    return 2 * static_cast<size_t>(hp_.n_layer) * hp_.kv_dim() * elt;
}

double Model::flops(int n_tokens, int n_past) const {
    double attended = 0;  // sum over layers and tokens of the attended positions
    for (int il = 0; il < hp_.n_layer; ++il) {
        for (int t = 0; t < n_tokens; ++t) {
            const int pos = n_past + t;
            attended += hp_.is_swa(il) ? std::min(pos + 1, hp_.sliding_window) : pos + 1;
        }
    }
    return 2.0 * static_cast<double>(n_params_matmul_) * n_tokens +
           4.0 * hp_.head_dim * hp_.n_head * attended;
}

std::string Model::summary() const {
    char buf[640];
    char inter[96] = "";
    if (copied_bytes_ > 0)
        std::snprintf(inter, sizeof inter, " (matrices copied: %.1f MiB, %.1f MiB of it interleaved)",
                      copied_bytes_ / 1048576.0, interleaved_bytes_ / 1048576.0);
    std::snprintf(buf, sizeof buf,
                  "model: %s, %d layers, n_embd %d, %d heads (%d KV) of %d, n_ff %d, vocab %d, %.1fM params, "
                  "weights %.1f MiB%s, KV cache %zu bytes/token (F16)%s",
                  hp_.arch.c_str(), hp_.n_layer, hp_.n_embd, hp_.n_head, hp_.n_head_kv, hp_.head_dim, hp_.n_ff,
                  hp_.n_vocab, n_params_ / 1e6, weight_bytes_ / 1048576.0, inter,
                  kv_bytes_per_token(tensor::TensorType::kF16), tied_ ? ", tied embeddings" : "");
    return buf;
}

}  // namespace ead::model
