// ModelConfig from a Gemma 4 GGUF file's metadata and tensor shapes (layer: host/model, CPU only).
//
// Key (prefix "gemma4.")                 -> ModelConfig field
//   general.architecture == "gemma4"        (anything else is refused)
//   block_count                             num_hidden_layers
//   embedding_length                        hidden_size
//   context_length                          max_position_embeddings
//   feed_forward_length (u32 or per layer)  intermediate_size (layer 0); an array whose KV-shared
//                                           layers are twice as wide -> use_double_wide_mlp
//   attention.head_count (u32 or per layer) num_attention_heads (must be uniform)
//   attention.head_count_kv (u32 or array)  num_key_value_heads (sliding layers); the full layers'
//                                           value -> num_global_key_value_heads when it differs
//   attention.key_length / value_length     global_head_dim (full layers; must be equal)
//   attention.key_length_swa / value_length_swa  head_dim (sliding layers; must be equal)
//   attention.layer_norm_rms_epsilon        rms_norm_eps
//   attention.sliding_window                sliding_window
//   attention.sliding_window_pattern        layer_types (bool per layer: true = sliding)
//   attention.shared_kv_layers              num_kv_shared_layers (default 0)
//   rope.freq_base / rope.freq_base_swa     rope_theta_full / rope_theta_sliding
//   rope.dimension_count_swa / key_length_swa   partial_rotary_factor_sliding
//   rope_freqs.weight (count of 1.0 entries, c)  partial_rotary_factor_full = 2c / global_head_dim
//                                           (rope.dimension_count is the whole head: ggml rotates
//                                           "proportionally" by freq factors; default 0.25 absent)
//   embedding_length_per_layer_input        hidden_size_per_layer_input (0 = no PLE)
//   expert_count / expert_used_count / expert_feed_forward_length
//                                           num_experts / top_k_experts / moe_intermediate_size
//                                           (enable_moe_block when expert_count > 0)
//   final_logit_softcapping                 final_logit_softcapping (absent = none)
//   tokenizer.ggml.bos/eos/padding_token_id bos_token_id / eos_token_id / pad_token_id
// From tensors: vocab_size = rows of token_embd; vocab_size_per_layer_input = rows of
// per_layer_token_embd; tie_word_embeddings = no output.weight; attention_k_eq_v = a full layer
// that computes K/V has no attn_v.
#pragma once
#include "host/model/config.h"

namespace vkg {

class GgufModel;

// Throws vkg::Error naming the file and the key for a missing or wrong-typed key, another
// architecture, or an inconsistent configuration (ModelConfig::Validate).
ModelConfig GgufModelConfig(const GgufModel& model);

}  // namespace vkg
