# cube-streamer's image: built on debian:bookworm, run on debian:bookworm-slim
# with only the runtime packages, as a non-root user, configured only through
# CS_ variables (README "Container"). Every package comes from
# scripts/setup.sh's lists (--install-only), never from a copy here.
#
#   podman build --format docker -t cube-streamer .   (or: docker build -t cube-streamer .)
#   podman run -p 8080:8080 -p 50000-50100:50000-50100/udp \
#     -e CS_ICE_PUBLIC_IP=203.0.113.7 cube-streamer
#
# Stages: build (compiles), coturn (the TURN relay compose.yaml runs beside
# the server), runtime (last, so the default target is the server).

FROM debian:bookworm AS build
# The package layer comes before the source, so editing the source reuses it.
COPY scripts/setup.sh /src/scripts/setup.sh
RUN /src/scripts/setup.sh --install-only build,runtime && rm -rf /var/lib/apt/lists/*
COPY . /src
WORKDIR /src
# Release, no tests: the server binary alone (the web page is embedded in it).
RUN scripts/setup.sh --build-dir build

FROM debian:bookworm-slim AS coturn
COPY scripts/setup.sh /tmp/cs-setup/scripts/setup.sh
RUN /tmp/cs-setup/scripts/setup.sh --install-only turn && rm -rf /var/lib/apt/lists/* /tmp/cs-setup
# Debian's coturn package makes this system user; its pid file's default
# (/var/run) is root's.
USER turnserver
EXPOSE 3478/tcp 3478/udp 49160-49200/udp
ENTRYPOINT ["turnserver", "--pidfile=/tmp/turnserver.pid"]

FROM debian:bookworm-slim AS runtime
COPY scripts/setup.sh /tmp/cs-setup/scripts/setup.sh
RUN /tmp/cs-setup/scripts/setup.sh --install-only runtime && rm -rf /var/lib/apt/lists/* /tmp/cs-setup
# A fixed uid, so volumes and `podman top` checks can name it.
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/cube-streamer \
      --shell /usr/sbin/nologin cube-streamer
COPY --from=build /src/build/cube-streamer /usr/local/bin/cube-streamer
USER 10001:10001
# Mesa's shader cache and GStreamer's plugin registry live under HOME, which
# this user can write; the registry is built now so a start does not wait on it.
ENV HOME=/home/cube-streamer
RUN gst-inspect-1.0 >/dev/null
WORKDIR /home/cube-streamer
# Listen on every interface of the container; all viewers' media on one UDP
# range that `podman run -p` / compose can publish.
ENV CS_HOST=0.0.0.0 \
    CS_PORT=8080 \
    CS_ICE_PORT_RANGE=50000-50100
EXPOSE 8080/tcp 50000-50100/udp
# Asks the server itself: 127.0.0.1 unless CS_HOST names one address, https
# when CS_TLS_CERT is set (self-signed is fine here: -k); /healthz needs no
# CS_AUTH_TOKEN. Needs `--format docker` with podman (OCI images drop it).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD host="$CS_HOST"; case "$host" in ""|0.0.0.0|::) host=127.0.0.1 ;; esac; \
      scheme=http; [ -z "$CS_TLS_CERT" ] || scheme=https; \
      curl -fsSk --max-time 4 "$scheme://$host:$CS_PORT/healthz" >/dev/null || exit 1
# The server stops cleanly (exit 0) on SIGTERM.
STOPSIGNAL SIGTERM
ENTRYPOINT ["cube-streamer"]
