// The server's pure parts: loopback names (what decides that a token is required), percent
// decoding, and the static file rules (nothing outside the front end's folder).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/strings.h"
#include "server/api.h"
#include "server/http.h"

namespace sw::server {
namespace {

namespace fs = std::filesystem;

TEST(Loopback, NamesTheLoopbackInterfaceOnly) {
  for (const char* h : {"127.0.0.1", "127.9.8.7", "::1", "[::1]", "localhost"}) EXPECT_TRUE(IsLoopback(h)) << h;
  for (const char* h : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "example.com", "localhost.evil.com", ""})
    EXPECT_FALSE(IsLoopback(h)) << h;
}

TEST(PercentDecode, DecodesAndRefusesMalformedOrNul) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%2Fb%20c", &out));
  EXPECT_EQ(out, "a/b c");
  EXPECT_TRUE(PercentDecode("a+b", &out, true));
  EXPECT_EQ(out, "a b");
  EXPECT_TRUE(PercentDecode("a+b", &out));
  EXPECT_EQ(out, "a+b");
  for (const char* bad : {"%", "%4", "%zz", "a%00b"}) EXPECT_FALSE(PercentDecode(bad, &out)) << bad;
}

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_static_XXXXXX";
    dir_ = mkdtemp(tmpl);
    fs::create_directories(dir_ + "/ui/assets");
    std::ofstream(dir_ + "/ui/index.html") << "<!doctype html>index";
    std::ofstream(dir_ + "/ui/assets/app.js") << "js";
    std::ofstream(dir_ + "/secret.txt") << "secret";
    fs::create_symlink(dir_ + "/secret.txt", dir_ + "/ui/assets/link.js");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(StaticFiles, ServesTheFrontEndAndRoutesToIndex) {
  Response r = StaticFile(dir_ + "/ui", "/assets/app.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "js");
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  r = StaticFile(dir_ + "/ui", "/");
  EXPECT_EQ(r.body, "<!doctype html>index");
  r = StaticFile(dir_ + "/ui", "/runs/abc");  // a client-side route
  EXPECT_EQ(r.body, "<!doctype html>index");
  EXPECT_EQ(StaticFile(dir_ + "/ui", "/assets/missing.js").status, 404);
}

TEST_F(StaticFiles, NothingOutsideItsFolder) {
  for (const char* p : {"//etc/passwd", "/../secret.txt", "/assets/../../secret.txt", "/assets/link.js", "/.hidden",
                        "/assets\\..\\..\\secret.txt", "/assets//app.js"}) {
    Response r = StaticFile(dir_ + "/ui", p);
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << p;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << p;
  }
}

TEST_F(StaticFiles, WithoutABuildItSaysHowToMakeOne) {
  Response r = StaticFile("", "/");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("make"), std::string::npos);
}

}  // namespace
}  // namespace sw::server
