"""gunicorn for bench/api_bench.py's servers, as issue 11 measures them: 2 sync workers and no
access log, the same for the product, the DRF peer and the floor. (Without -c, gunicorn would
read the product's ./gunicorn.conf.py: threaded workers, an access line per request.)"""

workers = 2
worker_class = "sync"
accesslog = None
loglevel = "warning"
timeout = 30
