"""Exception and stack fingerprints from Java/Tomcat, Python and JavaScript traces."""

from __future__ import annotations

from critdesk.search.signatures import (
    extract_signatures,
    normalise_java_frame,
    normalise_js_frame,
    normalise_python_frame,
    parse_traces,
)

TOMCAT = """\
SEVERE [http-nio-8080-exec-7] o.a.c.c.StandardWrapperValve.invoke Servlet.service() threw exception
java.lang.IllegalStateException: Entity 'Order' has no primary key
\tat com.acme.platform.entity.EntityMapper.keyOf(EntityMapper.java:142)
\tat com.acme.platform.entity.EntityMapper$1.apply(EntityMapper.java:88)
\tat com.acme.platform.workspace.WorkspaceService.lambda$publish$3(WorkspaceService.java:210)
\tat java.base/java.util.stream.ReferencePipeline$3$1.accept(ReferencePipeline.java:197)
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)
\tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)
\tat com.acme.platform.web.ApiController$$EnhancerBySpringCGLIB$$9f3c1a.publish(<generated>)
\t... 42 more
Caused by: java.sql.SQLSyntaxErrorException: ORA-00942: table or view does not exist
\tat oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:494)
\tat com.acme.platform.db.Gateway.query(Gateway.java:55)
\t... 12 more
"""

PYTHON = """\
ERROR worker crashed
Traceback (most recent call last):
  File "/usr/lib/python3.11/threading.py", line 1045, in _bootstrap_inner
    self.run()
  File "/srv/app/.venv/lib/python3.11/site-packages/celery/app/trace.py", line 451, in trace_task
    R = retval = fun(*args, **kwargs)
  File "/srv/app/src/acme/gateway/sync.py", line 88, in push_entities
    payload = serialise(entity)
  File "/srv/app/src/acme/gateway/codec.py", line 12, in serialise
    return entity["fields"]
KeyError: 'fields'
"""

V8 = """\
Uncaught TypeError: Cannot read properties of undefined (reading 'id')
    at Grid.renderRow (https://cloud.example.com/static/js/main.3f2a1b9c.js:1:20345)
    at Array.map (<anonymous>)
    at Grid.render (https://cloud.example.com/static/js/main.3f2a1b9c.js:1:19877)
    at processChild (webpack:///./node_modules/react-dom/cjs/react-dom.development.js:3990:14)
"""

FIREFOX = """\
TypeError: this.folder is undefined
onLoad@chrome://messenger/content/folderPane.js:120:5
init@chrome://messenger/content/msgMail3PaneWindow.js:44:3
"""


def test_java_trace_gives_exception_in_app_frames_and_stack() -> None:
    signatures = extract_signatures(TOMCAT)
    assert signatures[:6] == (
        "exception:IllegalStateException",
        "frame:com.acme.platform.entity.EntityMapper.keyOf",
        "frame:com.acme.platform.entity.EntityMapper.apply",
        "frame:com.acme.platform.workspace.WorkspaceService.lambda$publish",
        "frame:com.acme.platform.web.ApiController.publish",
        "stack:IllegalStateException@com.acme.platform.entity.EntityMapper.keyOf"
        ">com.acme.platform.entity.EntityMapper.apply"
        ">com.acme.platform.workspace.WorkspaceService.lambda$publish",
    )
    # Framework frames (Spring, Tomcat, the JDK) are no part of the fingerprint.
    assert not [s for s in signatures if "springframework" in s or "catalina" in s]


def test_a_caused_by_chain_is_a_trace_of_its_own() -> None:
    traces = parse_traces(TOMCAT)
    assert [t.exception for t in traces] == ["IllegalStateException", "SQLSyntaxErrorException"]
    assert traces[1].in_app == ("com.acme.platform.db.Gateway.query",)  # the JDBC driver is not
    assert "stack:SQLSyntaxErrorException@com.acme.platform.db.Gateway.query" in (
        extract_signatures(TOMCAT)
    )


def test_line_numbers_and_generated_names_do_not_change_the_signatures() -> None:
    moved = (
        TOMCAT.replace(":142)", ":151)")
        .replace("$1.apply", "$2.apply")
        .replace("lambda$publish$3", "lambda$publish$7")
        .replace("9f3c1a", "77aa01")
        .replace("exec-7", "exec-2")
    )
    assert extract_signatures(moved) == extract_signatures(TOMCAT)


def test_python_traceback_is_read_innermost_frame_first() -> None:
    (trace,) = parse_traces(PYTHON)
    assert trace.exception == "KeyError"
    assert trace.in_app == ("acme.gateway.codec.serialise", "acme.gateway.sync.push_entities")
    assert "stack:KeyError@acme.gateway.codec.serialise>acme.gateway.sync.push_entities" in (
        extract_signatures(PYTHON)
    )


def test_python_frames_ignore_the_install_prefix() -> None:
    elsewhere = PYTHON.replace("/srv/app/src/", "/home/dev/checkout/")
    assert extract_signatures(elsewhere) == extract_signatures(PYTHON)


def test_v8_trace_drops_bundle_hashes_builtins_and_node_modules() -> None:
    assert extract_signatures(V8) == (
        "exception:TypeError",
        "frame:Grid.renderRow@main.js",
        "frame:Grid.render@main.js",
        "stack:TypeError@Grid.renderRow@main.js>Grid.render@main.js",
    )


def test_firefox_trace() -> None:
    assert extract_signatures(FIREFOX) == (
        "exception:TypeError",
        "frame:onLoad@folderPane.js",
        "frame:init@msgMail3PaneWindow.js",
        "stack:TypeError@onLoad@folderPane.js>init@msgMail3PaneWindow.js",
    )


def test_prose_names_exceptions_and_crash_signatures() -> None:
    text = "Saving throws a NullPointerException; crash reports show [@ nsMsgDBFolder::Sync ]."
    assert extract_signatures(text) == (
        "exception:NullPointerException",
        "crash:nsMsgDBFolder::Sync",
    )
    assert extract_signatures("An error occurred. Error: timeout.") == ()
    assert extract_signatures("") == ()


def test_frame_normalisers() -> None:
    assert normalise_java_frame("a.B$1$2.lambda$run$0") == "a.B.lambda$run"
    assert normalise_java_frame("sun.reflect.GeneratedMethodAccessor311.invoke") == (
        "sun.reflect.GeneratedMethodAccessor.invoke"
    )
    assert normalise_python_frame(r"C:\svc\acme\api\views.py", "get") == "acme.api.views.get"
    assert normalise_js_frame("https://x/app.bundle-0a1b2c3d.js?v=2", None) == (
        "<anonymous>@app.bundle.js"
    )
