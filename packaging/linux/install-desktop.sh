#!/bin/sh
# Install the workstation into the user's desktop menus (no root): the .desktop file, icons, the DICOM MIME type
# (file managers then offer "Open with Workstation" for .dcm files and DICOMDIR) and the AppStream metadata.
#   install-desktop.sh [EXECUTABLE]   (default: `workstation` on PATH; the bundle passes its own path)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exe=${1:-workstation}
data=${XDG_DATA_HOME:-$HOME/.local/share}
id=io.github.workstation.Workstation
mkdir -p "$data/applications" "$data/metainfo" "$data/mime/packages"
sed "s|^Exec=workstation |Exec=$exe |" "$here/$id.desktop" > "$data/applications/$id.desktop"
cp "$here/$id.metainfo.xml" "$data/metainfo/"
cp "$here/workstation-dicom.xml" "$data/mime/packages/"
mkdir -p "$data/icons/hicolor/scalable/apps"
cp "$here/icons/workstation.svg" "$data/icons/hicolor/scalable/apps/$id.svg"
for size in 16 32 48 64 128 256; do
    mkdir -p "$data/icons/hicolor/${size}x${size}/apps"
    cp "$here/icons/workstation-$size.png" "$data/icons/hicolor/${size}x${size}/apps/$id.png"
done
command -v update-mime-database >/dev/null 2>&1 && update-mime-database "$data/mime" || true
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "installed $id for $(id -un) (Exec: $exe)"
