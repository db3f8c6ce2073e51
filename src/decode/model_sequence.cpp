#include "decode/model_sequence.h"

#include "gguf/reader.h"

namespace ead::decode {

VocabInfo vocab_info(const tokenizer::Tokenizer& tok, int32_t n_vocab_rows) {
    VocabInfo v;
    v.model = tok.model();
    v.pre = tok.pre();
    v.bos = tok.bos();
    v.eos = tok.eos();
    v.eot = tok.eot();
    const int32_t n = tok.n_vocab();
    v.tokens.reserve(static_cast<size_t>(n));
    v.token_types.reserve(static_cast<size_t>(n));
    for (int32_t id = 0; id < n; ++id) {
        v.tokens.push_back(tok.token_text(id));
        v.token_types.push_back(static_cast<int32_t>(tok.token_type(id)));
    }
    v.n_vocab = n_vocab_rows;
    return v;
}

LoadedModel LoadedModel::load(const std::string& path, const model::ContextOptions& context_options) {
    LoadedModel m;
    m.path = path;
    m.model = model::Model::load(path);
    m.tokenizer.emplace(tokenizer::Tokenizer::from_gguf(m.model->file()));
    m.context = std::make_unique<model::Context>(m.model, context_options);
    m.sequence = std::make_unique<ModelSequence>(*m.context);
    return m;
}

ModelPair load_pair(const std::string& small_path, const std::string& large_path,
                    const model::ContextOptions& context_options) {
    ModelPair pair;
    pair.small = LoadedModel::load(small_path, context_options);
    const VocabInfo small_vocab = vocab_info(*pair.small.tokenizer, pair.small.model->n_vocab());
    if (large_path.empty()) {
        pair.info.n_vocab_common =
            std::min(small_vocab.rows(), static_cast<int32_t>(small_vocab.tokens.size()));
        return pair;
    }
    pair.large = LoadedModel::load(large_path, context_options);
    try {
        pair.info = check_pair(small_vocab, vocab_info(*pair.large->tokenizer, pair.large->model->n_vocab()));
    } catch (const PairError& e) {
        throw PairError(std::string(e.what()) + " (small: " + small_path + ", large: " + large_path + ")");
    }
    return pair;
}

}  // namespace ead::decode
