// The frames a warm standby takes from its primary's JetStream stream
// (eventstore/standby_frame.h): the input's messages (split at each 0xFF 0xFE pair) through
// the FrameAssembler, every whole frame through DecodeFrame under a fixed test MAC (32 zero
// bytes, so the fuzzer can reach past the MAC check). Properties: a refusal says why; a frame
// that decodes encodes again and that encoding decodes.
#include "eventstore/standby_frame.h"
#include "tests/fuzz/fuzz_target.h"

CASELEDGER_FUZZ_TARGET(standby_frame) {
  namespace eventstore = caseledger::eventstore;
  const eventstore::FrameMac mac = [](std::string_view) {
    return std::optional<std::string>(std::string(eventstore::kFrameMacSize, '\0'));
  };
  std::string_view in = caseledger::fuzz::AsText(data, size);
  eventstore::FrameAssembler assembler;
  while (true) {
    const size_t cut = in.find("\xFF\xFE");
    std::string_view message = in.substr(0, cut);
    std::string why;
    auto whole = assembler.Add(message, &why);
    if (whole) {
      std::string decode_why;
      auto frame = eventstore::DecodeFrame(*whole, mac, &decode_why);
      if (!frame) {
        FUZZ_CHECK(!decode_why.empty());
      } else {
        auto again = eventstore::EncodeFrame(*frame, mac);
        FUZZ_CHECK(again.has_value());
        std::string again_why;
        FUZZ_CHECK(eventstore::DecodeFrame(*again, mac, &again_why).has_value());
      }
    }
    if (cut == std::string_view::npos) break;
    in.remove_prefix(cut + 2);
  }
  return 0;
}
