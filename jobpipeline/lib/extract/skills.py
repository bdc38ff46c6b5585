"""Skills dictionary: canonical casing for technologies a posting names.

The aliases feed the rules extractor's one keyword scan (Aho-Corasick), so a long description is
read once for all fields. Ambiguous English words (Go, Swift, Rust, Spark, Excel …) only count
when written with the capital letter a technology uses.
"""

from __future__ import annotations

import re

# canonical name → aliases (lower-case unless the alias is in _CASE_SENSITIVE)
_SKILLS: dict[str, tuple[str, ...]] = {
    "Python": ("python", "python3"),
    "Java": ("java",),
    "JavaScript": ("javascript", "js", "ecmascript"),
    "TypeScript": ("typescript", "ts"),
    "Go": ("golang",),
    "Rust": ("rust-lang",),
    "C++": ("c++", "cpp"),
    "C#": ("c#", "csharp"),
    "Ruby": ("ruby",),
    "PHP": ("php",),
    "Kotlin": ("kotlin",),
    "Swift": (),
    "Scala": ("scala",),
    "Elixir": ("elixir",),
    "Erlang": ("erlang",),
    "Haskell": ("haskell",),
    "Clojure": ("clojure",),
    "OCaml": ("ocaml",),
    "Dart": (),
    "Julia": (),
    "Perl": ("perl",),
    "Lua": ("lua",),
    "Zig": ("zig",),
    "Objective-C": ("objective-c", "objc"),
    "Solidity": ("solidity",),
    "SQL": ("sql",),
    "Bash": ("bash", "shell scripting"),
    "MATLAB": ("matlab",),
    "Fortran": ("fortran",),
    "Verilog": ("verilog", "systemverilog"),
    "VHDL": ("vhdl",),
    "CUDA": ("cuda",),
    "Triton": (),
    "React": ("react", "react.js", "reactjs"),
    "React Native": ("react native",),
    "Next.js": ("next.js", "nextjs"),
    "Vue": ("vue", "vue.js", "vuejs"),
    "Angular": ("angular", "angularjs"),
    "Svelte": ("svelte", "sveltekit"),
    "Node.js": ("node.js", "nodejs", "node"),
    "Deno": ("deno",),
    "Express": ("express.js", "expressjs"),
    "Django": ("django",),
    "Flask": ("flask",),
    "FastAPI": ("fastapi",),
    "Rails": ("rails", "ruby on rails"),
    "Spring": ("spring boot", "springboot"),
    ".NET": (".net", "dotnet", "asp.net"),
    "Laravel": ("laravel",),
    "Phoenix": (),
    "GraphQL": ("graphql",),
    "REST": ("rest api", "rest apis", "restful"),
    "gRPC": ("grpc",),
    "HTML": ("html", "html5"),
    "CSS": ("css", "css3"),
    "Tailwind": ("tailwind", "tailwindcss"),
    "Redux": ("redux",),
    "Flutter": ("flutter",),
    "iOS": ("ios",),
    "Android": ("android",),
    "SwiftUI": ("swiftui",),
    "PostgreSQL": ("postgresql", "postgres", "psql"),
    "MySQL": ("mysql",),
    "SQLite": ("sqlite",),
    "MongoDB": ("mongodb", "mongo"),
    "Redis": ("redis",),
    "Cassandra": ("cassandra",),
    "DynamoDB": ("dynamodb",),
    "Elasticsearch": ("elasticsearch", "elastic search", "opensearch"),
    "ClickHouse": ("clickhouse",),
    "Snowflake": ("snowflake",),
    "BigQuery": ("bigquery",),
    "Redshift": ("redshift",),
    "Databricks": ("databricks",),
    "DuckDB": ("duckdb",),
    "Kafka": ("kafka", "apache kafka"),
    "RabbitMQ": ("rabbitmq",),
    "Spark": ("pyspark", "apache spark"),
    "Flink": ("flink", "apache flink"),
    "Airflow": ("airflow", "apache airflow"),
    "Dagster": ("dagster",),
    "dbt": ("dbt",),
    "Hadoop": ("hadoop",),
    "Pandas": ("pandas",),
    "NumPy": ("numpy",),
    "Polars": ("polars",),
    "AWS": ("aws", "amazon web services"),
    "GCP": ("gcp", "google cloud", "google cloud platform"),
    "Azure": ("azure", "microsoft azure"),
    "Kubernetes": ("kubernetes", "k8s"),
    "Docker": ("docker",),
    "Terraform": ("terraform",),
    "Ansible": ("ansible",),
    "Helm": ("helm",),
    "Pulumi": ("pulumi",),
    "Linux": ("linux",),
    "Git": ("git",),
    "GitHub Actions": ("github actions",),
    "Jenkins": ("jenkins",),
    "CI/CD": ("ci/cd", "cicd"),
    "Prometheus": ("prometheus",),
    "Grafana": ("grafana",),
    "Datadog": ("datadog",),
    "Nginx": ("nginx",),
    "Serverless": ("serverless",),
    "Lambda": ("aws lambda",),
    "S3": ("s3",),
    "PyTorch": ("pytorch", "torch"),
    "TensorFlow": ("tensorflow",),
    "JAX": ("jax",),
    "scikit-learn": ("scikit-learn", "sklearn"),
    "Hugging Face": ("hugging face", "huggingface", "transformers library"),
    "LangChain": ("langchain",),
    "LlamaIndex": ("llamaindex",),
    "vLLM": ("vllm",),
    "LLM": ("llm", "llms", "large language models"),
    "RAG": ("rag", "retrieval-augmented generation", "retrieval augmented generation"),
    "Machine Learning": ("machine learning",),
    "Deep Learning": ("deep learning",),
    "NLP": ("nlp", "natural language processing"),
    "Computer Vision": ("computer vision",),
    "Reinforcement Learning": ("reinforcement learning",),
    "MLOps": ("mlops",),
    "Data Engineering": ("data engineering",),
    "ETL": ("etl", "elt"),
    "Figma": ("figma",),
    "Excel": (),
    "Tableau": ("tableau",),
    "Looker": ("looker",),
    "Power BI": ("power bi", "powerbi"),
    "Salesforce": ("salesforce",),
    "HubSpot": ("hubspot",),
    "Jira": ("jira",),
    "Webpack": ("webpack",),
    "Vite": ("vite",),
    "Jest": ("jest",),
    "Cypress": ("cypress",),
    "Playwright": ("playwright",),
    "Selenium": ("selenium",),
    "Microservices": ("microservices", "micro-services"),
    "Distributed Systems": ("distributed systems",),
    "Embedded": ("embedded systems", "embedded software", "firmware"),
    "FPGA": ("fpga",),
    "ROS": ("ros", "ros2"),
    "Blockchain": ("blockchain",),
    "Ethereum": ("ethereum",),
    "WebRTC": ("webrtc",),
    "WebAssembly": ("webassembly", "wasm"),
    "Unity": (),
    "Unreal Engine": ("unreal engine", "unreal"),
    "OpenGL": ("opengl",),
    "Vulkan": ("vulkan",),
    "SOC 2": ("soc 2", "soc2"),
    "OAuth": ("oauth", "oauth2"),
    "Security": ("cybersecurity",),
    "HIPAA": ("hipaa",),
    "LangGraph": ("langgraph",),
    "AutoGen": ("autogen",),
    "RLHF": ("rlhf",),
    "Vercel": ("vercel",),
    "Cloudflare": ("cloudflare",),
    "tRPC": ("trpc",),
    "shadcn/ui": ("shadcn", "shadcn/ui"),
    "TensorRT": ("tensorrt", "tensorrt-llm"),
    "FlashAttention": ("flashattention", "flash attention"),
    "FSDP": ("fsdp",),
    "NCCL": ("nccl",),
    "LoRA": ("lora", "qlora"),
    "Ray": (),
    "Argo": ("argo cd", "argocd", "argo workflows"),
    "OpenTelemetry": ("opentelemetry", "otel"),
    "eBPF": ("ebpf",),
    "gdb": ("gdb",),
    "GKE": ("gke",),
    "EKS": ("eks", "amazon eks"),
    "AKS": ("aks",),
}
# Written exactly like this, these words mean the technology; lower-case they are English.
_CASE_SENSITIVE: dict[str, str] = {
    "Go": "Go",
    "Rust": "Rust",
    "Swift": "Swift",
    "Spark": "Spark",
    "Excel": "Excel",
    "Dart": "Dart",
    "Julia": "Julia",
    "Triton": "Triton",
    "Phoenix": "Phoenix",
    "Unity": "Unity",
    "Scala": "Scala",
    "Express": "Express",
    "Lambda": "Lambda",
    "Ruby": "Ruby",
    "Java": "Java",
    "Helm": "Helm",
    "Node": "Node.js",
    "Elixir": "Elixir",
    "Ray": "Ray",
    "Argo": "Argo",
    "Flask": "Flask",
    "Spring": "Spring",
    "Angular": "Angular",
}
_AMBIGUOUS_LOWER = {
    "go",
    "rust",
    "swift",
    "spark",
    "excel",
    "dart",
    "julia",
    "triton",
    "phoenix",
    "unity",
    "express",
    "lambda",
    "node",
    "helm",
    "spring",
    "angular",
    "ts",
    "js",
    "unreal",
    "torch",
    "rest",
    "ros",
    "ruby",
    "java",
    "scala",
    "elixir",
    "flask",
    "s3",
    "rag",
    "ray",
    "argo",
}


def skill_keywords() -> dict[str, tuple[str, str | None]]:
    """Lower-case alias → (canonical name, exact casing required or None) for the keyword scan."""
    out: dict[str, tuple[str, str | None]] = {}
    for canon, aliases in _SKILLS.items():
        for alias in (canon.lower(), *aliases):
            if alias in _AMBIGUOUS_LOWER:
                continue
            out[alias] = (canon, None)
    for cased, canon in _EXACT.items():
        out.setdefault(cased.lower(), (canon, cased))
        if out[cased.lower()][1] is None and cased.lower() in _AMBIGUOUS_LOWER:
            out[cased.lower()] = (canon, cased)
    return out


# Upper-case acronyms that are safe as written (JS, TS, RAG, S3, REST, ROS) and capitalised words.
_EXACT: dict[str, str] = {
    **_CASE_SENSITIVE,
    "JS": "JavaScript",
    "TS": "TypeScript",
    "RAG": "RAG",
    "S3": "S3",
    "REST": "REST",
    "ROS": "ROS",
    "ROS2": "ROS",
    "Torch": "PyTorch",
    "Unreal": "Unreal Engine",
}


def _lookup() -> dict[str, str]:
    """Every alias and canonical name, lower-cased, → canonical name (ambiguous words included: an
    LLM that lists "go" as a skill means the language)."""
    table = {canon.lower(): canon for canon in _SKILLS}
    for canon, aliases in _SKILLS.items():
        for alias in aliases:
            table.setdefault(alias.lower(), canon)
    for cased, canon in _EXACT.items():
        table.setdefault(cased.lower(), canon)
    return table


_LOOKUP = _lookup()
_SPACES = re.compile(r"\s+")


def canonical_skill(name: str) -> str | None:
    """The canonical name of a known skill ("k8s", "K8s" → "Kubernetes"; "JS" → "JavaScript"), else None."""
    key = _SPACES.sub(" ", name.strip()).lower()
    return _LOOKUP.get(key) or _LOOKUP.get(key.rstrip(".").removesuffix(".js")) if key else None


def normalize_skills(names: list[str]) -> list[str]:
    """Skills as one canonical name each, first mention first, duplicates (any casing or alias) removed.

    Used on LLM output, where small models repeat themselves and write "Postgres" and "PostgreSQL";
    an unknown skill is kept as written (trimmed), once."""
    out: dict[str, str] = {}
    for name in names:
        name = _SPACES.sub(" ", name.strip())
        if not name:
            continue
        canon = canonical_skill(name) or name
        out.setdefault(canon.lower(), canon)
    return list(out.values())
