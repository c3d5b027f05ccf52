#!/usr/bin/env bash
# Run a command with the system's OpenJPEG and libjpeg made invisible: in a private mount
# namespace (so nothing outside it is affected), /dev/null is bind-mounted over every
# libopenjp2.so* and libjpeg.so* file the dynamic loader could find. A program that still
# reaches for one fails with "file too short". Needs root (or CAP_SYS_ADMIN) for unshare -m.
#
#   unshare -m --propagation private wheels/mask_system_codecs.sh COMMAND [ARGS...]
set -euo pipefail
if [ "${DCF_MASK_INNER:-}" != 1 ]; then
  export DCF_MASK_INNER=1
  exec unshare -m --propagation private "$0" "$@"
fi
masked=()
while IFS= read -r lib; do
  [ -f "$lib" ] || continue
  real=$(readlink -f "$lib")
  case " ${masked[*]-} " in *" $real "*) continue ;; esac
  mount --bind /dev/null "$real"
  masked+=("$real")
done < <( { ldconfig -p | awk '/lib(openjp2|jpeg)\.so/ {print $NF}';
            find /lib /usr/lib /usr/local/lib /lib64 /usr/lib64 -maxdepth 2 \
                 \( -name 'libopenjp2.so*' -o -name 'libjpeg.so*' \) 2>/dev/null; } | sort -u )
echo "masked with /dev/null: ${masked[*]-none found}"
# The mask must hold: loading the system copies by name has to fail now.
for name in libopenjp2.so.7 libjpeg.so.62; do
  if python3 -c "import ctypes, sys; ctypes.CDLL(sys.argv[1])" "$name" 2>/dev/null; then
    echo "mask_system_codecs: $name still loads; the mask does not hold" >&2
    exit 3
  fi
done
exec "$@"
