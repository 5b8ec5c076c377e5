# dockerapp without what only BuildKit builds, for the classic builder;
# outside the context, as a Dockerfile may be.
FROM debian:bookworm-slim AS app
ARG GREETING=hello
RUN echo "$GREETING" > /greeting
COPY . /app

FROM app AS debug
RUN touch /debug-stage
