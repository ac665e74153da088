// Voice packs: torch.save of one float tensor [N, 1, style*2]; row r styles an utterance of
// r+1 phoneme characters (KPipeline's pack[len(ps)-1]).
#include "core/error.h"
#include "formats/torch_checkpoint.h"
#include "models/kokoro/kokoro.h"

namespace xnai::models::kokoro {

VoicePack VoicePack::load(const std::string& pt_path) {
  auto ck = torch::Checkpoint::open(pt_path);
  if (ck->tensors().size() != 1)
    throw Error(ErrorKind::InvalidFormat, pt_path + ": a voice pack holds one tensor, this file has " +
                                              std::to_string(ck->tensors().size()));
  const torch::TensorView& t = ck->tensors().begin()->second;
  if (t.shape.size() != 3 || t.shape[1] != 1 || t.shape[2] != 256 || t.shape[0] < 1)
    throw Error(ErrorKind::InvalidFormat, pt_path + ": voice pack tensor is not [N, 1, 256]");
  VoicePack v;
  v.rows_ = static_cast<size_t>(t.shape[0]);
  v.data_ = t.to_float();
  return v;
}

std::span<const float> VoicePack::style_for(size_t n) const {
  size_t r = n == 0 ? 0 : n - 1;
  if (r >= rows_) r = rows_ - 1;
  return std::span<const float>(data_).subspan(r * 256, 256);
}

size_t phoneme_char_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace xnai::models::kokoro
