"""What is never redacted by default: the vendor's product words and public technology.

Advice stays useful only if "Tomcat", "PostgreSQL" or "maven.apache.org" survive, so these are
kept even when a known name or a detector would match them. A deployment adds its own words
through ``KnownTerms.keep``; an author keeps single originals through ``allow``.
"""

from __future__ import annotations

# The vendor's product words (DESIGN.md) and public technology names, compared in lower case.
# fmt: off
KEEP_WORDS = frozenset(
    word.lower()
    for word in (
        # product words
        "Entity", "Entities", "Project", "Projects", "Workspace", "Workspaces", "Cloud",
        "On-Premises", "On Premises", "Gateway", "Desk", "Support", "Community Forum",
        # environment words that name nothing in particular
        "prod", "production", "uat", "test", "testing", "dev", "development", "staging", "stage",
        "qa", "live", "sandbox", "demo", "preprod", "pre-prod", "dr", "training", "local",
        # technology
        "Java", "JVM", "JDK", "OpenJDK", "Kotlin", "Scala", "Python", "Node", "Node.js", ".NET",
        "ASP.NET", "C#", "Go", "Rust", "JavaScript", "TypeScript", "React", "Angular", "Vue",
        "PostgreSQL", "Postgres", "MySQL", "MariaDB", "Oracle", "SQL Server", "SQLite", "MongoDB",
        "Redis", "Cassandra", "Elasticsearch", "OpenSearch", "Kafka", "RabbitMQ", "ActiveMQ",
        "Tomcat", "Apache", "nginx", "HAProxy", "IIS", "Jetty", "WildFly", "JBoss", "WebLogic",
        "WebSphere", "Spring", "Spring Boot", "Hibernate", "Log4j", "Logback", "SLF4J", "Jackson",
        "Netty", "Kubernetes", "k8s", "Docker", "Podman", "Helm", "OpenShift", "Terraform",
        "Ansible", "Jenkins", "GitHub", "GitLab", "Bitbucket", "Jira", "Confluence", "Maven",
        "Gradle", "npm", "yarn", "pip", "Linux", "Ubuntu", "Debian", "RHEL", "Red Hat", "CentOS",
        "Alpine", "Windows", "Windows Server", "macOS", "Microsoft", "Azure", "AWS", "Amazon",
        "Google", "GCP", "Google Cloud", "Cloudflare", "Okta", "Keycloak", "Active Directory",
        "LDAP", "SAML", "OAuth", "OpenID", "Kerberos", "TLS", "SSL", "HTTP", "HTTPS", "JSON", "XML",
        "YAML", "REST", "SOAP", "gRPC", "JDBC", "ODBC", "Chrome", "Firefox", "Edge", "Safari",
        "Grafana", "Prometheus", "Datadog", "Splunk", "Kibana", "Zabbix", "Nagios", "Citrix",
        "VMware", "Hyper-V", "Vault", "HashiCorp", "Let's Encrypt", "OpenSSL", "curl", "localhost",
        "admin", "root",
    )
)
# fmt: on

# Hosts and domains whose every subdomain is public documentation or technology.
# fmt: off
KEEP_DOMAINS = frozenset(
    (
        "localhost", "localhost.localdomain", "example.com", "example.org", "example.net",
        "vendor.example", "apache.org", "maven.org", "mvnrepository.com", "github.com",
        "githubusercontent.com", "github.io", "gitlab.com", "bitbucket.org", "atlassian.com",
        "oracle.com", "java.com", "java.net", "openjdk.org", "python.org", "pypi.org", "npmjs.com",
        "npmjs.org", "nodejs.org", "docker.com", "docker.io", "quay.io", "k8s.io", "kubernetes.io",
        "helm.sh", "postgresql.org", "mysql.com", "mariadb.org", "mongodb.com", "redis.io",
        "microsoft.com", "microsoftonline.com", "windows.com", "azure.com", "amazon.com",
        "aws.amazon.com", "google.com", "googleapis.com", "gstatic.com", "cloudflare.com",
        "stackoverflow.com", "stackexchange.com", "mozilla.org", "w3.org", "ietf.org",
        "rfc-editor.org", "spring.io", "hibernate.org", "eclipse.org", "jetbrains.com",
        "redhat.com", "ubuntu.com", "debian.org", "centos.org", "letsencrypt.org", "digicert.com",
        "openssl.org", "nginx.org", "nginx.com", "elastic.co", "grafana.com", "prometheus.io",
        "hashicorp.com", "terraform.io", "jenkins.io", "gradle.org", "schemas.xmlsoap.org",
        "xmlns.com", "json-schema.org", "wikipedia.org", "socket.io", "asp.net", "node.js",
        "openai.com", "owasp.org", "mitre.org", "nist.gov", "cve.org", "snyk.io", "sonatype.com",
        "readthedocs.io",
        # Kubernetes' in-cluster names are the same in every cluster; the parts that name a
        # customer (namespaces after environments) are found as environment names.
        "cluster.local",
    )
)
# fmt: on

# Cloud suffixes under which the leading labels are a tenant's own (a bucket, a database, a
# web app, an identity tenant): such hosts are customer data, the bare suffix is not.
# fmt: off
TENANT_SUFFIXES = (
    "amazonaws.com", "cloudfront.net", "windows.net", "azurewebsites.net", "azure.net",
    "cloudapp.azure.com", "azurecr.io", "azure-api.net", "azurefd.net", "sharepoint.com",
    "onmicrosoft.com", "herokuapp.com", "appspot.com", "run.app", "firebaseio.com", "okta.com",
    "oktapreview.com", "auth0.com", "atlassian.net", "my.salesforce.com", "force.com",
    "zendesk.com", "service-now.com", "cloudflareaccess.com", "sentry.io",
)
# fmt: on

# Service hosts of those clouds that are the same for everybody.
# fmt: off
PUBLIC_SERVICE_LABELS = frozenset(
    (
        "s3", "sts", "ec2", "iam", "login", "management", "portal", "console", "signin", "www",
        "graph", "ecr", "dynamodb", "sqs", "sns", "lambda", "monitoring", "logs", "kms",
        "secretsmanager", "ssm", "elasticloadbalancing", "autoscaling", "core", "blob", "file",
        "queue", "table", "database", "vault", "servicebus", "docs", "status", "api", "ingest"
    )
)
# fmt: on

# Addresses that say nothing about a customer.
# fmt: off
KEEP_IPS = frozenset(
    (
        "127.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "::", "169.254.169.254", "8.8.8.8",
        "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9"
    )
)
# fmt: on

# User names in home paths that are service accounts or placeholders, not people.
# fmt: off
GENERIC_USERS = frozenset(
    (
        "root", "ubuntu", "ec2-user", "centos", "admin", "administrator", "user", "username",
        "public", "default", "default user", "all users", "shared", "guest", "tomcat", "postgres",
        "oracle", "jenkins", "nginx", "www-data", "app", "appuser", "runner", "vagrant", "docker",
        "node", "git", "me", "you", "someone", "<user>", "$user", "%username%", "${user}",
        "{user}", "<username>", "*", "...", "runneradmin", "systemprofile", "localservice",
        "networkservice", "defaultapppool", "containeruser", "containeradministrator"
    )
)
# fmt: on
