# Turns the web page's files into a C++ source of byte arrays (server/web_assets.h), so the
# binary carries its page. Run at build time as a script, no other tools needed:
#   cmake -DOUT=web_assets_data.cpp -DSRC_DIR=web -DFILES=index.html,app.js,app.css -P embed_web_assets.cmake
# Each file becomes URL path "/<name>", a Content-Type from its extension and an ETag from
# its sha256 (so browsers revalidate cheaply and never keep a stale page after an upgrade).
string(REPLACE "," ";" files "${FILES}")
set(arrays "")
set(table "")
set(i 0)
foreach(name IN LISTS files)
  set(path "${SRC_DIR}/${name}")
  file(READ "${path}" hex HEX)
  file(SHA256 "${path}" sha)
  string(SUBSTRING "${sha}" 0 20 sha)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  # 0x.. per byte, a line break every 16 bytes; a trailing 0 keeps empty files legal C++.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REPEAT "0x[0-9a-f][0-9a-f]," 16 row)  # CMake regexes have no {n}
  string(REGEX REPLACE "(${row})" "\\1\n    " bytes "${bytes}")
  get_filename_component(ext "${name}" LAST_EXT)
  if(ext STREQUAL ".html")
    set(type "text/html; charset=utf-8")
  elseif(ext STREQUAL ".js")
    set(type "text/javascript; charset=utf-8")
  elseif(ext STREQUAL ".css")
    set(type "text/css; charset=utf-8")
  elseif(ext STREQUAL ".svg")
    set(type "image/svg+xml")
  elseif(ext STREQUAL ".png")
    set(type "image/png")
  elseif(ext STREQUAL ".ico")
    set(type "image/x-icon")
  else()
    message(FATAL_ERROR "embed_web_assets: no Content-Type known for '${name}'")
  endif()
  string(APPEND arrays "// ${name}\nconst unsigned char k${i}[] = {\n    ${bytes}0};\n")
  string(APPEND table "    {\"/${name}\", \"${type}\", \"\\\"${sha}\\\"\", {reinterpret_cast<const char*>(k${i}), ${size}}},\n")
  math(EXPR i "${i} + 1")
endforeach()

set(text "// Generated from web/ by cmake/embed_web_assets.cmake at build time; do not edit.
#include \"server/web_assets.h\"

namespace xnai::server {
namespace {
${arrays}
const WebAsset kAssets[] = {
${table}};
}  // namespace

std::span<const WebAsset> web_assets() { return kAssets; }

}  // namespace xnai::server
")
# Rewrite only on change, so an unchanged page does not relink the server.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${text}")
