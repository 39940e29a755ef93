# Image for the app and the workers of the scale-out deployment (docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# OCR engine with Chinese and English models; a CJK font for rendered pages and previews.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/archive archive \
    && mkdir -p /data \
    && chown archive:archive /data

WORKDIR /src
# Only what the package needs, so the image does not pick up .venv, .demo or test data.
COPY pyproject.toml README* ./
COPY archive ./archive
COPY storage ./storage
COPY ocr ./ocr
COPY search ./search
COPY retention ./retention
COPY web ./web
RUN pip install . && rm -rf /src

WORKDIR /home/archive
USER archive
ENV ARCHIVE_HOME=/data
VOLUME ["/data"]
EXPOSE 8000
CMD ["archive", "serve", "--host", "0.0.0.0", "--port", "8000"]
