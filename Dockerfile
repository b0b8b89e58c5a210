FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY application application
COPY projections projections
COPY interfaces interfaces
COPY infrastructure infrastructure
RUN pip install --no-cache-dir .
ENV RENTBOOK_ENVIRONMENT=production RENTBOOK_WORKERS_IN_PROCESS=false
# glibc gives each request thread its own heap arena (up to 8 per core); numpy's per-query
# temporaries then leave every arena at its high-water mark. Two arenas: ~20 MB less anonymous
# memory for the search server at 10k listings, no slower (bench/README.md, search RSS).
ENV MALLOC_ARENA_MAX=2
# The /places city index, built into the image once: every worker maps this file read-only
# (shared pages) instead of building its own (~2 CPU-s each; bench/README.md, task R).
ENV RENTBOOK_PLACES_CACHE_DIR=/app/places-cache
RUN python -c "from infrastructure.places_offline import shared_places; shared_places().autocomplete('a')"
EXPOSE 8000
CMD ["rentbook", "serve", "--host", "0.0.0.0", "--no-background", "--no-seed"]
