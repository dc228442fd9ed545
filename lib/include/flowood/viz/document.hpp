#pragma once
/// A small report document — headings, paragraphs, tables, figures, preformatted text — rendered
/// both as Markdown (figures linked by relative path) and as one self-contained HTML page (figures
/// embedded as base64 data URIs, no external resources).
#include <string>
#include <vector>

namespace flowood::viz {

class Document {
 public:
  explicit Document(std::string title);

  /// A section heading; level 2 (section) or 3 (subsection).
  void heading(const std::string& text, int level = 2);
  /// A paragraph of plain text (escaped in HTML; `code` spans in backticks kept in both).
  void paragraph(const std::string& text);
  /// A table: header cells, then rows (each as long as the header). Cells are plain text.
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
  /// A PNG figure read from `path` when the document is rendered, with a caption.
  void figure(const std::string& path, const std::string& caption);
  /// Preformatted text (a code block).
  void preformatted(const std::string& text);

  /// Markdown; figure paths are written relative to the directory `base_dir` (where the .md goes).
  std::string markdown(const std::string& base_dir) const;
  /// A complete HTML page with inline CSS and every figure embedded. Throws IoError naming a
  /// figure that cannot be read.
  std::string html() const;

  const std::string& title() const { return title_; }

 private:
  struct Block {
    enum class Kind { kHeading, kParagraph, kTable, kFigure, kPreformatted } kind;
    int level = 0;
    std::string text;                          ///< heading/paragraph/preformatted text, figure caption
    std::string path;                          ///< figure file
    std::vector<std::vector<std::string>> rows;  ///< table: header first
  };
  std::string title_;
  std::vector<Block> blocks_;
};

/// Standard base64 (RFC 4648, with '=' padding) of `bytes`.
std::string base64(const std::string& bytes);

/// `text` with &, <, >, " escaped for HTML.
std::string html_escape(const std::string& text);

}  // namespace flowood::viz
