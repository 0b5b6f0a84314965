# The bucketpipe worker image: `docker compose up` runs it against the project mounted at /project.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY bin bin
COPY src src
ENV BUCKETPIPE_DATA_DIR=/var/lib/bucketpipe/data
VOLUME ["/var/lib/bucketpipe"]
WORKDIR /project
ENTRYPOINT ["node", "/app/bin/bucketpipe.js", "--project", "/project"]
CMD ["worker"]
