# One image, every target: `gearshift serve --target <name>` picks what runs.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin gearshift

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /data gearshift \
 && mkdir -p /data && chown gearshift /data
COPY --from=build /src/target/release/gearshift /usr/local/bin/gearshift
USER 10001
ENV GEARSHIFT_DATA_DIR=/data \
    GEARSHIFT_GATEWAY_LISTEN=0.0.0.0:8080 \
    GEARSHIFT_REGISTRY_LISTEN=0.0.0.0:50051 \
    GEARSHIFT_LOG_FORMAT=json
EXPOSE 8080 50051
ENTRYPOINT ["gearshift"]
CMD ["serve"]
