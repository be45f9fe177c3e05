// Gemma 4 in GGUF, as llama.cpp's converter (convert_hf_to_gguf.py, class Gemma4Model, architecture
// "gemma4") writes it: the tensor names and metadata keys (layer: host/model, CPU only).
//
// Tensors (per-model name as in tensor_names.h -> GGUF name; N = layer). No tensor is transposed,
// split, merged or shifted: Gemma 4's RMSNorm uses its weight as stored, so the converter adds no
// +1 to norm weights (it did for Gemma 1-3), and GGUF's ne order is simply our shape reversed
// ([rows][cols] has ne = {cols, rows}; an expert stack [E][rows][cols] has ne = {cols, rows, E}).
//
//   embed_tokens.weight                    token_embd.weight           [V, H]
//   lm_head.weight (untied only)           output.weight               [V, H]
//   norm.weight                            output_norm.weight          [H]
//   embed_tokens_per_layer.weight          per_layer_token_embd.weight [Vp, L*P]
//   per_layer_model_projection.weight      per_layer_model_proj.weight [L*P, H]
//   per_layer_projection_norm.weight       per_layer_proj_norm.weight  [P]
//   layers.N.input_layernorm.weight        blk.N.attn_norm.weight
//   layers.N.self_attn.q_proj.weight       blk.N.attn_q.weight
//   layers.N.self_attn.k_proj.weight       blk.N.attn_k.weight
//   layers.N.self_attn.v_proj.weight       blk.N.attn_v.weight   (absent on K=V full layers)
//   layers.N.self_attn.o_proj.weight       blk.N.attn_output.weight
//   layers.N.self_attn.q_norm.weight       blk.N.attn_q_norm.weight
//   layers.N.self_attn.k_norm.weight       blk.N.attn_k_norm.weight
//   layers.N.post_attention_layernorm.weight   blk.N.post_attention_norm.weight
//   layers.N.pre_feedforward_layernorm.weight  blk.N.ffn_norm.weight
//   layers.N.mlp.gate_proj.weight          blk.N.ffn_gate.weight
//   layers.N.mlp.up_proj.weight            blk.N.ffn_up.weight
//   layers.N.mlp.down_proj.weight          blk.N.ffn_down.weight
//   layers.N.post_feedforward_layernorm.weight blk.N.post_ffw_norm.weight
//   layers.N.router.proj.weight            blk.N.ffn_gate_inp.weight   [E, H]
//   layers.N.router.scale                  blk.N.ffn_gate_inp.scale    [H]
//   layers.N.router.per_expert_scale       blk.N.ffn_down_exps.scale   [E] (a per-expert factor on
//                                          the expert's output: the same product either way)
//   layers.N.experts.gate_up_proj          blk.N.ffn_gate_up_exps.weight [E, 2I, H] (gate rows first)
//   layers.N.experts.down_proj             blk.N.ffn_down_exps.weight  [E, H, I]
//   layers.N.pre_feedforward_layernorm_2.weight  blk.N.pre_ffw_norm_2.weight
//   layers.N.post_feedforward_layernorm_1.weight blk.N.post_ffw_norm_1.weight
//   layers.N.post_feedforward_layernorm_2.weight blk.N.post_ffw_norm_2.weight
//   layers.N.per_layer_input_gate.weight   blk.N.inp_gate.weight       [P, H]
//   layers.N.per_layer_projection.weight   blk.N.proj.weight           [H, P]
//   layers.N.post_per_layer_input_norm.weight  blk.N.post_norm.weight
//   layers.N.layer_scalar                  blk.N.layer_output_scale.weight [1]
//   (none: derived from the config)        rope_freqs.weight [Dfull/2]: 1 for rotated pairs, 1e30
//                                          beyond (how ggml expresses "proportional" RoPE); read
//                                          only to cross-check partial_rotary_factor (full layers)
//
// Metadata (prefix "gemma4."; see gguf_config.h for how each becomes a ModelConfig field).
#pragma once
#include <string>

namespace vkg {

inline constexpr const char* kGgufArchitecture = "gemma4";

// The GGUF name of a per-model tensor name from tensor_names.h; throws vkg::Error for a name the
// table above does not list.
std::string GgufTensorName(const std::string& model_name);

}  // namespace vkg
