#include "llm_providers/provider_errors.h"

namespace keel::llm {

using nlohmann::json;

std::optional<ProviderErrorInfo> ErrorInfo(const ApplicationError& error) {
  if (error.Details().empty()) return std::nullopt;
  try {
    json j = PayloadToJson(error.Details().front());
    if (!j.is_object() || !j.contains("provider")) return std::nullopt;
    return j.get<ProviderErrorInfo>();
  } catch (const std::exception&) {
    return std::nullopt;  // details of some other shape
  }
}

void to_json(json& j, const ProviderErrorInfo& i) {
  j = {{"provider", i.provider}, {"http_status", i.http_status}};
  if (!i.provider_type.empty()) j["provider_type"] = i.provider_type;
  if (!i.rate_limits.empty()) j["rate_limits"] = i.rate_limits;
}

void from_json(const json& j, ProviderErrorInfo& i) {
  i = {};
  i.provider = j.at("provider").get<std::string>();
  i.http_status = j.value("http_status", 0);
  i.provider_type = j.value("provider_type", std::string());
  if (j.contains("rate_limits")) i.rate_limits = j.at("rate_limits").get<RateLimits>();
}

}  // namespace keel::llm
