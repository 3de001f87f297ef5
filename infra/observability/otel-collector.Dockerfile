# The collector's own image has no shell or HTTP client, so compose could not check its
# health: the same static binary on busybox, whose wget asks the health_check extension.
FROM otel/opentelemetry-collector-contrib:0.131.0 AS otel
FROM busybox:1.37
COPY --from=otel /otelcol-contrib /otelcol-contrib
COPY otel-collector.yaml /etc/otelcol/config.yaml
USER 10001
EXPOSE 4317 4318 13133
ENTRYPOINT ["/otelcol-contrib"]
CMD ["--config=/etc/otelcol/config.yaml"]
