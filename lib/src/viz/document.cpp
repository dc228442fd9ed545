#include "flowood/viz/document.hpp"

#include <filesystem>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"

namespace fs = std::filesystem;

namespace flowood::viz {
namespace {

/// `code` spans (text between backticks) as <code>, the rest escaped.
std::string inline_html(const std::string& text) {
  std::string out;
  bool code = false;
  std::string run;
  for (char ch : text) {
    if (ch == '`') {
      out += code ? "<code>" + html_escape(run) + "</code>" : html_escape(run);
      run.clear();
      code = !code;
    } else {
      run += ch;
    }
  }
  out += code ? "`" + html_escape(run) : html_escape(run);
  return out;
}

/// A Markdown table cell: '|' escaped, newlines as spaces.
std::string md_cell(const std::string& text) {
  std::string out;
  for (char ch : text) out += ch == '|' ? std::string("\\|") : ch == '\n' ? std::string(" ") : std::string(1, ch);
  return out;
}

constexpr const char* kStyle =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
    "color:#222;line-height:1.45}h1{font-size:1.7em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:1em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.3em .6em;"
    "text-align:right}th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}"
    "figure{margin:1.2em 0}img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.9em}"
    "pre{background:#f6f6f6;padding:.8em;overflow-x:auto}code{background:#f3f3f3;padding:0 .2em}";

}  // namespace

Document::Document(std::string title) : title_(std::move(title)) {}

void Document::heading(const std::string& text, int level) {
  blocks_.push_back({Block::Kind::kHeading, level < 2 ? 2 : level > 3 ? 3 : level, text, {}, {}});
}
void Document::paragraph(const std::string& text) { blocks_.push_back({Block::Kind::kParagraph, 0, text, {}, {}}); }
void Document::table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  Block b{Block::Kind::kTable, 0, {}, {}, {header}};
  for (const auto& r : rows) {
    if (r.size() != header.size())
      throw Error("report table row has " + std::to_string(r.size()) + " cells, the header " +
                  std::to_string(header.size()));
    b.rows.push_back(r);
  }
  blocks_.push_back(std::move(b));
}
void Document::figure(const std::string& path, const std::string& caption) {
  blocks_.push_back({Block::Kind::kFigure, 0, caption, path, {}});
}
void Document::preformatted(const std::string& text) {
  blocks_.push_back({Block::Kind::kPreformatted, 0, text, {}, {}});
}

std::string Document::markdown(const std::string& base_dir) const {
  std::string out = "# " + title_ + "\n";
  for (const auto& b : blocks_) {
    out += "\n";
    switch (b.kind) {
      case Block::Kind::kHeading:
        out += std::string(static_cast<size_t>(b.level), '#') + " " + b.text + "\n";
        break;
      case Block::Kind::kParagraph:
        out += b.text + "\n";
        break;
      case Block::Kind::kTable:
        for (size_t r = 0; r < b.rows.size(); ++r) {
          out += "|";
          for (const auto& cell : b.rows[r]) out += " " + md_cell(cell) + " |";
          out += "\n";
          if (r == 0) {
            out += "|";
            for (size_t c = 0; c < b.rows[0].size(); ++c) out += c == 0 ? "---|" : "---:|";
            out += "\n";
          }
        }
        break;
      case Block::Kind::kFigure: {
        std::error_code ec;
        auto rel = fs::relative(fs::absolute(b.path), fs::absolute(base_dir), ec);
        out += "![" + b.text + "](" + (ec || rel.empty() ? b.path : rel.string()) + ")\n\n*" + b.text + "*\n";
        break;
      }
      case Block::Kind::kPreformatted:
        out += "```\n" + b.text + (b.text.empty() || b.text.back() != '\n' ? "\n" : "") + "```\n";
        break;
    }
  }
  return out;
}

std::string Document::html() const {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html_escape(title_) +
                    "</title><style>" + kStyle + "</style></head><body>\n<h1>" + html_escape(title_) + "</h1>\n";
  for (const auto& b : blocks_) {
    switch (b.kind) {
      case Block::Kind::kHeading:
        out += "<h" + std::to_string(b.level) + ">" + inline_html(b.text) + "</h" + std::to_string(b.level) + ">\n";
        break;
      case Block::Kind::kParagraph:
        out += "<p>" + inline_html(b.text) + "</p>\n";
        break;
      case Block::Kind::kTable:
        out += "<table>\n";
        for (size_t r = 0; r < b.rows.size(); ++r) {
          out += "<tr>";
          for (const auto& cell : b.rows[r]) out += (r == 0 ? "<th>" : "<td>") + html_escape(cell) + (r == 0 ? "</th>" : "</td>");
          out += "</tr>\n";
        }
        out += "</table>\n";
        break;
      case Block::Kind::kFigure:
        out += "<figure><img alt=\"" + html_escape(b.text) + "\" src=\"data:image/png;base64," +
               base64(io::read_file(b.path)) + "\"><figcaption>" + inline_html(b.text) + "</figcaption></figure>\n";
        break;
      case Block::Kind::kPreformatted:
        out += "<pre>" + html_escape(b.text) + "</pre>\n";
        break;
    }
  }
  return out + "</body></html>\n";
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += ch;
    }
  }
  return out;
}

}  // namespace flowood::viz
