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
EXPOSE 8000
CMD ["rentbook", "serve", "--host", "0.0.0.0", "--no-background", "--no-seed"]
