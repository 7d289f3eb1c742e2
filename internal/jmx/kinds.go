package jmx

import (
	"strings"
)

// kind is what the importer does with an element.
type kind int

const (
	kUnknown kind = iota
	kTestPlan
	kThreadGroup
	kSetupThreadGroup
	kPostThreadGroup
	kHTTPSampler
	kHTTPDefaults
	kHeaderManager
	kArguments // User Defined Variables
	kCSVDataSet
	kJSONExtractor
	kJSONPathPlugin // the jmeter-plugins JSON Path Extractor, before JMeter 3.0
	kRegexExtractor
	kLoopController
	kWhileController
	kTransactionController
	kSimpleController
	kConstantTimer
	kUniformTimer
	kGaussianTimer
	kThroughputTimer
	kResponseAssertion
	kListener
	kScript     // JSR223 and BeanShell elements
	kController // controllers without a floodgate counterpart
	kConfig     // config elements without a floodgate counterpart
	kTimer      // other timers
	kSampler    // non-HTTP samplers
	kAssertion  // other assertions
	kProcessor  // other pre- and post-processors
)

// classInfo describes a testclass: its kind and its title in JMeter's menus.
type classInfo struct {
	kind  kind
	title string
}

// classes maps testclass short names, stable across JMeter 2.13 to 5.x,
// to what the importer does with them.
var classes = map[string]classInfo{
	"TestPlan":    {kTestPlan, "Test Plan"},
	"ThreadGroup": {kThreadGroup, "Thread Group"},
	"kg.apc.jmeter.threads.UltimateThreadGroup":                        {kThreadGroup, "jp@gc - Ultimate Thread Group"},
	"kg.apc.jmeter.threads.SteppingThreadGroup":                        {kThreadGroup, "jp@gc - Stepping Thread Group"},
	"com.blazemeter.jmeter.threads.concurrency.ConcurrencyThreadGroup": {kThreadGroup, "bzm - Concurrency Thread Group"},
	"SetupThreadGroup":          {kSetupThreadGroup, "setUp Thread Group"},
	"PostThreadGroup":           {kPostThreadGroup, "tearDown Thread Group"},
	"HTTPSamplerProxy":          {kHTTPSampler, "HTTP Request"},
	"HTTPSampler":               {kHTTPSampler, "HTTP Request"},
	"HTTPSampler2":              {kHTTPSampler, "HTTP Request"},
	"HeaderManager":             {kHeaderManager, "HTTP Header Manager"},
	"Arguments":                 {kArguments, "User Defined Variables"},
	"CSVDataSet":                {kCSVDataSet, "CSV Data Set Config"},
	"JSONPostProcessor":         {kJSONExtractor, "JSON Extractor"},
	"RegexExtractor":            {kRegexExtractor, "Regular Expression Extractor"},
	"LoopController":            {kLoopController, "Loop Controller"},
	"WhileController":           {kWhileController, "While Controller"},
	"TransactionController":     {kTransactionController, "Transaction Controller"},
	"GenericController":         {kSimpleController, "Simple Controller"},
	"ConstantTimer":             {kConstantTimer, "Constant Timer"},
	"UniformRandomTimer":        {kUniformTimer, "Uniform Random Timer"},
	"GaussianRandomTimer":       {kGaussianTimer, "Gaussian Random Timer"},
	"ConstantThroughputTimer":   {kThroughputTimer, "Constant Throughput Timer"},
	"ResponseAssertion":         {kResponseAssertion, "Response Assertion"},
	"ResultCollector":           {kListener, "Listener"},
	"BackendListener":           {kListener, "Backend Listener"},
	"Summariser":                {kListener, "Generate Summary Results"},
	"JSR223PreProcessor":        {kScript, "JSR223 PreProcessor"},
	"JSR223PostProcessor":       {kScript, "JSR223 PostProcessor"},
	"JSR223Sampler":             {kScript, "JSR223 Sampler"},
	"JSR223Timer":               {kScript, "JSR223 Timer"},
	"JSR223Assertion":           {kScript, "JSR223 Assertion"},
	"JSR223Listener":            {kScript, "JSR223 Listener"},
	"BeanShellPreProcessor":     {kScript, "BeanShell PreProcessor"},
	"BeanShellPostProcessor":    {kScript, "BeanShell PostProcessor"},
	"BeanShellSampler":          {kScript, "BeanShell Sampler"},
	"BeanShellTimer":            {kScript, "BeanShell Timer"},
	"BeanShellAssertion":        {kScript, "BeanShell Assertion"},
	"BeanShellListener":         {kScript, "BeanShell Listener"},
	"IfController":              {kController, "If Controller"},
	"SwitchController":          {kController, "Switch Controller"},
	"RandomController":          {kController, "Random Controller"},
	"RandomOrderController":     {kController, "Random Order Controller"},
	"OnceOnlyController":        {kController, "Once Only Controller"},
	"InterleaveControl":         {kController, "Interleave Controller"},
	"ThroughputController":      {kController, "Throughput Controller"},
	"RunTime":                   {kController, "Runtime Controller"},
	"ForeachController":         {kController, "ForEach Controller"},
	"ModuleController":          {kController, "Module Controller"},
	"IncludeController":         {kController, "Include Controller"},
	"CriticalSectionController": {kController, "Critical Section Controller"},
	"TestFragmentController":    {kController, "Test Fragment"},
	"RecordingController":       {kSimpleController, "Recording Controller"},
	"CookieManager":             {kConfig, "HTTP Cookie Manager"},
	"CacheManager":              {kConfig, "HTTP Cache Manager"},
	"AuthManager":               {kConfig, "HTTP Authorization Manager"},
	"DNSCacheManager":           {kConfig, "DNS Cache Manager"},
	"KeystoreConfig":            {kConfig, "Keystore Configuration"},
	"CounterConfig":             {kConfig, "Counter"},
	"RandomVariableConfig":      {kConfig, "Random Variable"},
	"ConfigTestElement":         {kConfig, "Config Element"},
	"PoissonRandomTimer":        {kTimer, "Poisson Random Timer"},
	"SyncTimer":                 {kTimer, "Synchronizing Timer"},
	"PreciseThroughputTimer":    {kTimer, "Precise Throughput Timer"},
	"DurationAssertion":         {kAssertion, "Duration Assertion"},
	"SizeAssertion":             {kAssertion, "Size Assertion"},
	"JSONPathAssertion":         {kAssertion, "JSON Assertion"},
	"XPathAssertion":            {kAssertion, "XPath Assertion"},
	"XPath2Extractor":           {kProcessor, "XPath2 Extractor"},
	"XPathExtractor":            {kProcessor, "XPath Extractor"},
	"HtmlExtractor":             {kProcessor, "CSS Selector Extractor"},
	"BoundaryExtractor":         {kProcessor, "Boundary Extractor"},
	"UserParameters":            {kProcessor, "User Parameters"},
	"DebugPostProcessor":        {kProcessor, "Debug PostProcessor"},
	"DebugSampler":              {kSampler, "Debug Sampler"},
	"JDBCSampler":               {kSampler, "JDBC Request"},
	"TCPSampler":                {kSampler, "TCP Sampler"},
	"TestAction":                {kSampler, "Flow Control Action"},
	"com.atlantbh.jmeter.plugins.jsonutils.jsonpathextractor.JSONPathExtractor": {kJSONPathPlugin, "jp@gc - JSON Path Extractor"},
}

// guiTitles names listeners by their GUI, as JMeter's tree does.
var guiTitles = map[string]string{
	"ViewResultsFullVisualizer": "View Results Tree",
	"SummaryReport":             "Summary Report",
	"StatVisualizer":            "Aggregate Report",
	"TableVisualizer":           "View Results in Table",
	"GraphVisualizer":           "Graph Results",
	"StatGraphVisualizer":       "Aggregate Graph",
	"RespTimeGraphVisualizer":   "Response Time Graph",
	"SimpleDataWriter":          "Simple Data Writer",
	"AssertionVisualizer":       "Assertion Results",
}

// shortClass drops a Java package: "org.apache.jmeter.X" → "X".
func shortClass(c string) string {
	if i := strings.LastIndexByte(c, '.'); i >= 0 && i+1 < len(c) {
		return c[i+1:]
	}
	return c
}

// kindOf classifies e.
func kindOf(e *Element) kind {
	tc := e.TestClass
	if ci, ok := classes[tc]; ok {
		return refine(e, ci.kind)
	}
	if ci, ok := classes[shortClass(tc)]; ok && !strings.Contains(tc, "kg.apc") && !strings.Contains(tc, "blazemeter") {
		return refine(e, ci.kind)
	}
	return kUnknown
}

// refine tells apart the elements that share a testclass.
func refine(e *Element, k kind) kind {
	gui := shortClass(e.GUIClass)
	switch {
	case k == kConfig && gui == "HttpDefaultsGui":
		return kHTTPDefaults
	case e.TestClass == "Arguments" || (k == kConfig && gui == "ArgumentsPanel"):
		return kArguments
	}
	return k
}

// title is e's kind in JMeter's words, e.g. "JSR223 PreProcessor".
func title(e *Element) string {
	switch kindOf(e) {
	case kHTTPDefaults:
		return "HTTP Request Defaults"
	case kArguments:
		return "User Defined Variables"
	case kListener:
		if t, ok := guiTitles[shortClass(e.GUIClass)]; ok {
			return t
		}
	}
	if ci, ok := classes[e.TestClass]; ok {
		return ci.title
	}
	if ci, ok := classes[shortClass(e.TestClass)]; ok {
		return ci.title
	}
	return shortClass(e.TestClass)
}

// label is `Title "name"`, how messages name an element.
func label(e *Element) string {
	return title(e) + " " + quoteName(e.Name)
}

func quoteName(s string) string {
	return `"` + strings.ReplaceAll(oneLine(s), `"`, `\"`) + `"`
}

// Path names e by its place in the tree, e.g.
// `Test Plan > Bot users > JSR223 PreProcessor "sign"`: the testnames of
// its ancestors, then its own title and name.
func Path(e *Element) string {
	var names []string
	for a := e.Parent; a != nil; a = a.Parent {
		n := oneLine(a.Name)
		if n == "" {
			n = title(a)
		}
		names = append(names, n)
	}
	var b strings.Builder
	for i := len(names) - 1; i >= 0; i-- {
		b.WriteString(names[i])
		b.WriteString(" > ")
	}
	if e.Parent == nil && kindOf(e) == kTestPlan {
		n := oneLine(e.Name)
		if n == "" {
			n = "Test Plan"
		}
		return n
	}
	b.WriteString(label(e))
	return b.String()
}

// oneLine folds white space runs (newlines included) into one space and
// caps the length, for names in comments and messages.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return s
}
