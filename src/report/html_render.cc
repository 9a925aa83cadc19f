// The page around the data: the template (report_template.html), uPlot's script, style sheet and
// license, all compiled in (cmake/embed_assets.cmake), and the data as JSON.
#include <string>
#include <string_view>

#include "core/error.h"
#include "report/html_report.h"

namespace firstwall::report {
namespace assets {
std::string_view Asset(std::string_view name);  // generated: embedded_assets.cc
}  // namespace assets
namespace {

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// JSON inside <script>: "</" would end the element early, and "<!--" followed by "<script" sends
// the HTML parser into a state where the real "</script>" no longer ends it. '<' only occurs in
// JSON strings, where "\u003c" reads the same to JSON.parse.
std::string ScriptSafe(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

void Replace(std::string& page, std::string_view marker, std::string_view with) {
  const size_t at = page.find(marker);
  FW_CHECK(at != std::string::npos, "the report template lacks a marker");
  page.replace(at, marker.size(), with);
}

}  // namespace

std::string RenderHtmlReport(const nlohmann::json& data) {
  std::string page(assets::Asset("template"));
  const std::string_view js = assets::Asset("uplot_js");
  FW_CHECK(js.find("</script") == std::string_view::npos, "uPlot's script holds </script");
  std::string title = "firstwall report";
  if (data.contains("meta") && data["meta"].contains("site") && data["meta"]["site"].is_string() &&
      !data["meta"]["site"].get<std::string>().empty()) {
    title += ": " + data["meta"]["site"].get<std::string>();
  }
  // Each marker once, replaced in order of appearance, so text put in never holds a marker.
  Replace(page, "<!--FW_TITLE-->", HtmlEscape(title));
  Replace(page, "/*FW_UPLOT_CSS*/", assets::Asset("uplot_css"));
  Replace(page, "<!--FW_LICENSE-->", HtmlEscape(assets::Asset("uplot_license")));
  Replace(page, "/*FW_UPLOT_JS*/", js);
  Replace(page, "/*FW_DATA*/", ScriptSafe(data.dump()));
  return page;
}

}  // namespace firstwall::report
