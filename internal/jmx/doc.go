// Package jmx converts JMeter test plans (.jmx, JMeter 2.13 to 5.x) to
// floodgate plans: Parse reads the hashTree of test elements and their
// properties, and Convert writes the plan as YAML, with every element it
// could not convert exactly listed (Result.Problems) and left as a
// comment where it was.
//
// # What converts
//
//	Thread Group                  scenario, closed executor: threads → vus, ramp-up → ramp_up,
//	                              loops → iterations, scheduler duration → duration
//	                              (infinite loops without one: duration ${DURATION}, set at run time)
//	Ultimate / Stepping /         closed: their threads, one linear ramp, the profile's length
//	  Concurrency Thread Group    as duration (approximated)
//	HTTP Request                  request step (method, path, raw body or parameters, headers;
//	                              connect + response timeouts → timeout)
//	HTTP Request Defaults         at any level, for the requests in its scope; the server all
//	                              requests name is the target (paths stay relative); with several
//	                              servers, requests to the others get absolute URLs
//	HTTP Header Manager           headers: Test Plan and Thread Group level → scenario headers,
//	                              deeper → request headers
//	User Defined Variables        values put in place where ${name} is used
//	${__P(name,default)}          ${NAME:-default} (environment), see text.go for the functions
//	${var}                        {{.var}} (floodgate template)
//	CSV Data Set Config           data: {file, mode: sequential, on_exhaust}
//	JSON Extractor, JSON Path     extract: {var: gjson.path}
//	  Extractor (plugin)
//	Regular Expression Extractor  extract: a JSON field ("id":"(.+?)") as gjson, a header
//	                              (Location: (.+)) as header:, any other body regex as regex:
//	Response Assertion (code)     expect: [statuses]
//	Response Assertion (text)     expect: {body: ...} over $text: substring → contains,
//	                              equals → ==, contains/matches → matches (Not, Or kept)
//	JSON Assertion                expect: {body: ...}: the path exists, equals or matches
//	Size Assertion (body)         expect: {body: len($text) > N}
//	Constant / Uniform /          think before each request in scope (Gaussian: a uniform
//	  Gaussian Random Timer       think with the same mean)
//	Flow Control Action (pause)   think: its timers and its pause
//	Constant Throughput Timer     open executor: target samples per MINUTE → rate per minute,
//	                              see throughputTimer
//	Transaction Controller        group
//	Simple Controller             its steps, in place
//	Loop Controller               folded into iterations when it holds the whole thread group,
//	                              else repeat: {count: N} (a ${var} count: while $index < int(var))
//	While Controller              poll, when it holds one request, an extractor and a
//	                              comparison of the extracted value with a constant; else
//	                              repeat: {while: ..., max: 1000} when its condition converts
//	If Controller                 when: on its step (a group when it holds several), for
//	                              conditions that compare variables with constants
//	Once Only Controller          once: true
//	Random Controller             choose, each child equally likely
//	Interleave Controller         choose (approximated: picked at random, not in turn)
//	Switch Controller             a constant picks its child; ${var}: when on each child;
//	                              ${__Random(a,b)}: choose
//	Throughput Controller         when: $rand < share (percent), when: $iteration < N (total)
//	Module Controller             the controller (or Test Fragment) it names, as a group
//	Include Controller            the .jmx file it names (relative to the plan): its Test
//	                              Fragments' steps, as a group
//	Test Fragments alone          run once by one thread, as a selection (a module file)
//	ForEach Controller            repeat: {each: list, as: var}, over a JSON Extractor's
//	                              matches (match number -1, extracted as a list)
//	Counter                       a var {{iteration start step}}, counting per VU
//	HTTP Cookie Manager           cookies: true (a cookie jar per VU)
//
// JMeter sends every request once, so the plan says retry: off; listeners
// are ignored (floodgate writes its own results). Scripts (JSR223,
// BeanShell), other controllers (Random Order, Runtime), other samplers and plugins don't convert; when nothing
// converts, the error lists each element and why (*NothingError). The
// output depends only on the input (and the options), so it can be
// compared with golden files.
package jmx
