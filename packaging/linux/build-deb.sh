#!/bin/sh
# A .deb of the one-folder bundle: /opt/workstation, a /usr/bin/workstation link, desktop file, icons, MIME type.
#   build-deb.sh DIST_DIR VERSION   (DIST_DIR holds the bundle folder "workstation")
set -eu
dist=$1
version=$2
here=$(cd "$(dirname "$0")" && pwd)
id=io.github.workstation.Workstation
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" "$root/usr/share/metainfo" \
         "$root/usr/share/mime/packages" "$root/usr/share/icons/hicolor/scalable/apps"
mkdir -p "$root/opt/workstation" && cp -a "$dist/workstation/." "$root/opt/workstation/"
rm -rf "$root/opt/workstation/desktop"
ln -s /opt/workstation/workstation "$root/usr/bin/workstation"
cp "$here/$id.desktop" "$root/usr/share/applications/"
cp "$here/$id.metainfo.xml" "$root/usr/share/metainfo/"
cp "$here/workstation-dicom.xml" "$root/usr/share/mime/packages/"
cp "$here/icons/workstation.svg" "$root/usr/share/icons/hicolor/scalable/apps/$id.svg"
for size in 16 32 48 64 128 256; do
    mkdir -p "$root/usr/share/icons/hicolor/${size}x${size}/apps"
    cp "$here/icons/workstation-$size.png" "$root/usr/share/icons/hicolor/${size}x${size}/apps/$id.png"
done
size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: workstation
Version: $version
Architecture: amd64
Maintainer: workstation contributors <workstation@users.noreply.github.com>
Installed-Size: $size
Depends: libegl1, libgl1, libglib2.0-0, libfontconfig1, libdbus-1-3, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-render-util0, libxcb-shape0, libxcb-xkb1
Recommends: fonts-wqy-microhei
Section: science
Priority: optional
Description: DICOM workstation: local archive, viewer and network node
 An open DICOM workstation for radiologists: local archive, image viewer with
 measurements and priors, and a DICOM network node (Store, Query/Retrieve).
CONTROL
dpkg-deb --root-owner-group --build "$root" "$dist/workstation_${version}_amd64.deb" >/dev/null
echo "$dist/workstation_${version}_amd64.deb"
