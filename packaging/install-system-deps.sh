#!/bin/sh
# System packages for the workstation on Debian/Ubuntu.
#   gui:  what Qt needs to open a window (and Python's venv); Mesa's EGL and software rasterizer for VTK's
#         offscreen 3D rendering (no GPU assumed)
#   test: that, plus the real DICOM peers the tests talk to (dcmtk, Orthanc, GDCM's gdcmscu, PixelMed with a
#         headless JRE: ~45 MB download, ~190 MB installed) and Xvfb for screenshots
# Installs only what is missing; does nothing on systems without apt-get (install the equivalents yourself).
set -eu
GUI="libegl1 libegl-mesa0 libgl1-mesa-dri libgl1 libglib2.0-0 libfontconfig1 fonts-dejavu-core libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0 libxcb-xkb1
fonts-wqy-microhei"
TEST="dcmtk dicom3tools orthanc xvfb xauth libgdcm-tools pixelmed-apps desktop-file-utils appstream binutils"
want="$GUI"
[ "${1:-gui}" = "test" ] && want="$GUI $TEST"
command -v apt-get >/dev/null 2>&1 || { echo "no apt-get: install Qt's system libraries${1:+ and $TEST} yourself"; exit 0; }
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing system packages:$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
# Orthanc's Debian package starts a system service; the tests run their own Orthanc, so stop it if it runs.
if echo "$missing" | grep -q orthanc; then
    $SUDO service orthanc stop >/dev/null 2>&1 || true
fi
