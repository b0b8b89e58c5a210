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
EXPOSE 8000
CMD ["rentbook", "serve", "--host", "0.0.0.0", "--no-background", "--no-seed"]
