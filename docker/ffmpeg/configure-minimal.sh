#!/bin/sh
# Configure an FFmpeg source tree for what the pipeline does with it, nothing more:
#   demux  probe any common film/TV container and decode its audio to 16 kHz mono WAV;
#          measure a 5.1 centre channel's speech band (pan, highpass, lowpass to raw s16le)
#   mux    copy every stream into MP4/MOV/MKV/MKA/WebM and add text subtitle tracks
#   shots  decode the video (FFmpeg's own decoders of film/TV codecs) and score every
#          frame for hard cuts (scdet, printed by the metadata filter)
# No external libraries (zlib only), no hardware, devices, network or video
# encoders but wrapped_avframe (decoded frames handed to the null muxer, which
# shots writes to), so no AV1 decoding, which needs libdav1d: ffmpeg, ffprobe and
# FFmpeg's shared libraries in ~20 MB (the video decoders add a few), where
# Debian's ffmpeg brings ~420 MB of codec and desktop libraries into every
# image. The shared libraries (not static binaries) let torchcodec, which
# pyannote.audio imports, load the same FFmpeg in the torch images.
#
#   sh configure-minimal.sh /opt/ffmpeg      (run inside the source tree)
set -eu
prefix=${1:-/opt/ffmpeg}

# Audio decoders of film, TV, music and speech recordings (globs as configure takes them).
audio_decoders='aac,aac_fixed,aac_latm,ac3,ac3_fixed,eac3,dca,truehd,mlp,mp1*,mp2*,mp3*,opus,vorbis,flac,alac,pcm_*,adpcm_*,dsd_*,wmav1,wmav2,wmapro,wmalossless,wmavoice,amrnb,amrwb,gsm,gsm_ms,ape,wavpack,tta,als,atrac*,cook,ra_144,ra_288,ralf,sipr,qdm2,qdmc,shorten,tak,twinvq,nellymoser,g723_1,g729,ilbc,qcelp,mace3,mace6,dst,hca,sonic,s302m,comfortnoise,dolby_e'
# Video decoders of film, TV and web video that FFmpeg has natively (for shot changes).
video_decoders='h264,hevc,mpeg1video,mpeg2video,mpeg4,msmpeg4v1,msmpeg4v2,msmpeg4v3,h263,h263p,vc1,wmv1,wmv2,wmv3,vp8,vp9,theora,prores,dnxhd,mjpeg,rawvideo,ffv1,dvvideo'
# Text subtitles: read what the subtitles stage writes and what containers carry.
# Muxers go by their component names: raw 16-bit PCM (-f s16le) is pcm_s16le; an unknown
# name is ignored by configure without a word (demux's image build checks it is there).
text_subtitle_codecs='subrip,srt,ass,ssa,webvtt,movtext,text'

./configure \
    --prefix="$prefix" \
    --enable-shared --disable-static \
    --disable-autodetect --enable-zlib \
    --disable-debug --disable-doc --disable-ffplay --disable-network \
    --disable-hwaccels --disable-devices --disable-indevs --disable-outdevs \
    --disable-decoders --enable-decoder="$audio_decoders,$video_decoders,$text_subtitle_codecs" \
    --disable-encoders --enable-encoder="pcm_s16le,wrapped_avframe,$text_subtitle_codecs" \
    --disable-muxers --enable-muxer='mp4,mov,ipod,matroska,matroska_audio,webm,wav,pcm_s16le,srt,ass,webvtt,null' \
    --disable-filters --enable-filter='abuffer,abuffersink,aformat,anull,aresample,atrim,pan,highpass,lowpass,buffer,buffersink,format,null,trim,scdet,metadata' \
    --disable-protocols --enable-protocol='file,pipe' \
    --enable-demuxers --enable-parsers --enable-bsfs
