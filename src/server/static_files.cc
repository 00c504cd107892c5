// The built front end, served from a folder beside the binary (or --ui-dir).
#include <filesystem>

#include "base/fs.h"
#include "base/strings.h"
#include "server/api.h"

namespace sw::server {
namespace {

const char* MediaType(const std::string& ext) {
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// The page's code comes only from us; React Flow sets inline styles, hence 'unsafe-inline' for styles.
constexpr const char* kCsp =
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

}  // namespace

Response StaticFile(const std::string& ui_dir, const std::string& path) {
  namespace fs = std::filesystem;
  Response r;
  r.headers.emplace_back("Content-Security-Policy", kCsp);
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  if (ui_dir.empty() || !FileExists(ui_dir + "/index.html")) {
    r.status = 503;
    r.content_type = "text/html; charset=utf-8";
    r.body = "<!doctype html><title>Specwright</title><h1>The web UI is not built</h1><p>Run <code>make</code> in the "
             "Specwright source tree (it builds <code>ui/</code> into <code>build/ui</code>), or start "
             "<code>specwright ui --ui-dir DIR</code>. The API is up at <a href=\"/api/v1/runs\">/api/v1/runs</a>.</p>";
    return r;
  }
  auto missing = [&] {
    r.status = 404;
    r.content_type = "application/json";
    r.body = "{\"error\":\"no such file\"}";
    return r;
  };
  std::string rel = path.empty() || path == "/" ? "index.html" : path.substr(1);
  // Only plain names below ui_dir: no empty part (a leading "/" would make the path absolute
  // and replace ui_dir when joined), no "..", no hidden files, no backslashes or NULs.
  for (const auto& part : Split(rel, '/'))
    if (part.empty() || part == ".." || StartsWith(part, ".") || part.find('\\') != std::string::npos ||
        part.find('\0') != std::string::npos)
      return missing();
  std::error_code ec;
  fs::path root = fs::canonical(ui_dir, ec);
  if (ec) return missing();
  fs::path file = root / rel;
  fs::path real = fs::weakly_canonical(file, ec);
  auto inside = real.lexically_relative(root);
  if (ec || inside.empty() || *inside.begin() == "..") return missing();  // a link out of ui_dir
  if (!fs::is_regular_file(file, ec)) {
    if (fs::path(rel).has_extension()) return missing();
    file = root / "index.html";  // a client-side route
  }
  auto data = ReadFile(file.string());
  if (!data.ok()) {
    r.status = 500;
    r.content_type = "application/json";
    r.body = "{\"error\":\"cannot read the front end's files\"}";
    return r;
  }
  r.body = std::move(data).value();
  r.content_type = MediaType(file.extension().string());
  r.headers.emplace_back("Cache-Control",
                         StartsWith(rel, "assets/") ? "public, max-age=31536000, immutable" : "no-cache");
  return r;
}

}  // namespace sw::server
