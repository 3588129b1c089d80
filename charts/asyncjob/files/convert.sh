# The convert type's script; charts/asyncjob/files/convert.sh is the same.
set -eu
in=$ASYNCJOB_PARAM_INPUT fmt=$ASYNCJOB_PARAM_FORMAT
vc=${ASYNCJOB_PARAM_VIDEOCODEC:-} ac=${ASYNCJOB_PARAM_AUDIOCODEC:-}
w=${ASYNCJOB_PARAM_WIDTH:-} h=${ASYNCJOB_PARAM_HEIGHT:-} t=${ASYNCJOB_PARAM_DURATION:-}
case $in in
  http://*|https://*) src=$in name=${in%%[?#]*} name=${name##*/} ;;
  *) src=./$in name=$in ;; # ./: never an ffmpeg protocol or option
esac
base=${name%.*}
case $base in ''|.*|*[!A-Za-z0-9._-]*) base=output ;; esac
out=$base.$fmt
if [ "$out" = "$in" ]; then out=$base.converted.$fmt; fi
case $fmt in
  webm) dv=vp9 da=opus ;;
  mp4|mov) dv=h264 da=aac ;;
  mkv) dv=h264 da=opus ;;
  ogg) dv=none da=vorbis ;;
  mp3) dv=none da=mp3 ;;
  wav) dv=none da=pcm ;;
  flac) dv=none da=flac ;;
  *) echo "convert: format $fmt is not supported" >&2; exit 2 ;;
esac
set -- -hide_banner -nostdin -nostats -y -progress pipe:1 -i "$src"
if [ -n "$t" ]; then set -- "$@" -t "$t"; fi
case ${vc:-$dv} in
  none) set -- "$@" -vn ;;
  copy) set -- "$@" -c:v copy ;;
  vp9) set -- "$@" -c:v libvpx-vp9 -b:v 0 -crf 33 -deadline good -cpu-used 5 -row-mt 1 -pix_fmt yuv420p ;;
  vp8) set -- "$@" -c:v libvpx -b:v 1M -deadline good -cpu-used 5 -pix_fmt yuv420p ;;
  av1) set -- "$@" -c:v libaom-av1 -crf 35 -cpu-used 8 -row-mt 1 -pix_fmt yuv420p ;;
  h264) set -- "$@" -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p ;;
  h265) set -- "$@" -c:v libx265 -preset veryfast -crf 28 -pix_fmt yuv420p ;;
esac
if [ -n "$w$h" ]; then set -- "$@" -vf "scale=${w:--2}:${h:--2}"; fi
case ${ac:-$da} in
  none) set -- "$@" -an ;;
  copy) set -- "$@" -c:a copy ;;
  opus) set -- "$@" -c:a libopus -b:a 96k ;;
  vorbis) set -- "$@" -c:a libvorbis -q:a 4 ;;
  aac) set -- "$@" -c:a aac -b:a 128k ;;
  mp3) set -- "$@" -c:a libmp3lame -q:a 4 ;;
  flac) set -- "$@" -c:a flac ;;
  pcm) set -- "$@" -c:a pcm_s16le ;;
esac
ffmpeg "$@" "${ASYNCJOB_OUTPUTS_DIR:-/asyncjob/outputs}/$out"
echo "{\"output\":\"$out\",\"format\":\"$fmt\"}"
