// SPDX-License-Identifier: GPL-3.0-or-later
#include "codeeditor.h"

#include "theme.h"

#include <Qsci/qscilexerjava.h>
#include <Qsci/qscilexerjavascript.h>
#include <Qsci/qscilexerjson.h>
#include <Qsci/qscilexerpython.h>

#include <QApplication>
#include <QCheckBox>
#include <QEvent>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QShortcut>
#include <QToolButton>

namespace dispatch::views {

namespace {

constexpr int kErrorSymbol = 1;     // margin marker
constexpr int kErrorBackground = 2; // whole-line tint

// Scintilla has a PowerShell lexer; QScintilla has no class for it, so this names it and its keyword sets.
class PowerShellLexer : public QsciLexer
{
public:
    explicit PowerShellLexer(QObject *parent) : QsciLexer(parent) {}
    const char *language() const override { return "PowerShell"; }
    const char *lexer() const override { return "powershell"; }
    bool caseSensitive() const override { return false; }
    const char *keywords(int set) const override
    {
        switch (set) {
        case 1: // keywords
            return "begin break catch class continue data default do dynamicparam else elseif end enum exit filter "
                   "finally for foreach from function if in param process return switch throw trap try until "
                   "using while";
        case 2: // cmdlets
            return "write-output write-host write-error get-item set-item get-content set-content convertto-json "
                   "convertfrom-json invoke-restmethod invoke-webrequest select-object where-object foreach-object "
                   "new-object";
        case 3: // aliases
            return "echo cat ls dir cd pwd cp mv rm select where foreach";
        default:
            return nullptr;
        }
    }
    QString description(int style) const override
    {
        switch (style) {
        case 0: return QStringLiteral("Default");
        case 1: return QStringLiteral("Comment");
        case 2: return QStringLiteral("String");
        case 3: return QStringLiteral("Character");
        case 4: return QStringLiteral("Number");
        case 5: return QStringLiteral("Variable");
        case 6: return QStringLiteral("Operator");
        case 7: return QStringLiteral("Identifier");
        case 8: return QStringLiteral("Keyword");
        case 9: return QStringLiteral("Cmdlet");
        case 10: return QStringLiteral("Alias");
        case 11: return QStringLiteral("Function");
        case 12: return QStringLiteral("User keyword");
        case 13: return QStringLiteral("Comment block");
        case 14: return QStringLiteral("Here string");
        case 15: return QStringLiteral("Here character");
        case 16: return QStringLiteral("Comment doc keyword");
        default: return {};
        }
    }
};

struct Scheme
{
    QColor paper, text, comment, string, keyword, number, function, decorator, margin, marginText, caretLine,
        selection, brace, errorText, errorPaper, errorLine;
};

Scheme schemeFor(bool dark)
{
    if (dark)
        return {QColor(0x1e, 0x22, 0x27), QColor(0xe6, 0xed, 0xf3), QColor(0x8b, 0x94, 0x9e), QColor(0xa5, 0xd6, 0xff),
                QColor(0xff, 0x7b, 0x72), QColor(0x79, 0xc0, 0xff), QColor(0xd2, 0xa8, 0xff), QColor(0xff, 0xa6, 0x57),
                QColor(0x26, 0x2b, 0x31), QColor(0x8b, 0x94, 0x9e), QColor(0x2a, 0x30, 0x37), QColor(0x26, 0x4f, 0x78),
                QColor(0x3a, 0x5a, 0x3a), QColor(0xff, 0xd7, 0xd5), QColor(0x5a, 0x1e, 0x1e), QColor(0x44, 0x1c, 0x1c)};
    return {QColor(0xff, 0xff, 0xff), QColor(0x1f, 0x23, 0x28), QColor(0x5c, 0x63, 0x6a), QColor(0x0a, 0x30, 0x69),
            QColor(0xb3, 0x1d, 0x28), QColor(0x05, 0x50, 0xae), QColor(0x6f, 0x42, 0xc1), QColor(0x95, 0x38, 0x00),
            QColor(0xf3, 0xf4, 0xf6), QColor(0x6e, 0x77, 0x81), QColor(0xf6, 0xf8, 0xfa), QColor(0xb6, 0xd7, 0xff),
            QColor(0xc8, 0xf0, 0xc8), QColor(0x82, 0x07, 0x1e), QColor(0xff, 0xeb, 0xe9), QColor(0xff, 0xf0, 0xee)};
}

// Colours by what a style is (its description), so every lexer gets the same scheme.
QColor colourForStyle(const QString &description, const Scheme &s)
{
    const QString d = description.toLower();
    if (d.contains(QLatin1String("comment")))
        return s.comment;
    if (d.contains(QLatin1String("string")) || d.contains(QLatin1String("character")) || d.contains(QLatin1String("regular expression")))
        return s.string;
    if (d.contains(QLatin1String("decorator")) || d.contains(QLatin1String("annotation")))
        return s.decorator;
    if (d.contains(QLatin1String("keyword")) || d.contains(QLatin1String("cmdlet")) || d.contains(QLatin1String("alias")))
        return s.keyword;
    if (d.contains(QLatin1String("number")))
        return s.number;
    if (d.contains(QLatin1String("function")) || d.contains(QLatin1String("class")) || d.contains(QLatin1String("variable"))
        || d.contains(QLatin1String("property")))
        return s.function;
    return s.text;
}

} // namespace

QString languageForFile(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("py"))
        return QStringLiteral("python");
    if (suffix == QLatin1String("js") || suffix == QLatin1String("mjs") || suffix == QLatin1String("cjs"))
        return QStringLiteral("javascript");
    if (suffix == QLatin1String("java"))
        return QStringLiteral("java");
    if (suffix == QLatin1String("ps1") || suffix == QLatin1String("psm1"))
        return QStringLiteral("powershell");
    if (suffix == QLatin1String("json"))
        return QStringLiteral("json");
    return {};
}

QString languageForRuntime(const QString &runtime)
{
    const QString r = runtime.toLower();
    if (r.startsWith(QLatin1String("python")))
        return QStringLiteral("python");
    if (r.startsWith(QLatin1String("node")) || r.startsWith(QLatin1String("javascript")))
        return QStringLiteral("javascript");
    if (r.startsWith(QLatin1String("java")))
        return QStringLiteral("java");
    if (r.startsWith(QLatin1String("powershell")))
        return QStringLiteral("powershell");
    return {};
}

CodeEditor::CodeEditor(QWidget *parent) : QsciScintilla(parent)
{
    setUtf8(true);
    setMarginType(0, NumberMargin);
    setMarginLineNumbers(0, true);
    setMarginWidth(0, QStringLiteral("00000"));
    setMarginType(1, SymbolMargin);
    setMarginWidth(1, 14);
    setMarginSensitivity(1, false);
    setFolding(BoxedTreeFoldStyle, 2);
    setBraceMatching(SloppyBraceMatch);
    setAutoIndent(true);
    setIndentationGuides(true);
    setBackspaceUnindents(true);
    setCaretLineVisible(true);
    setEolMode(EolUnix);
    setAnnotationDisplay(AnnotationBoxed);
    setScrollWidthTracking(true);
    setScrollWidth(1);
    m_annotationStyle = static_cast<int>(SendScintilla(SCI_ALLOCATEEXTENDEDSTYLES, 1));
    SendScintilla(SCI_ANNOTATIONSETSTYLEOFFSET, static_cast<unsigned long>(m_annotationStyle));
    markerDefine(RightTriangle, kErrorSymbol);
    markerDefine(Background, kErrorBackground);
    setMarginMarkerMask(1, 1 << kErrorSymbol);
    setLanguage({});
    applyColourScheme(currentTheme() == Theme::Dark || isDarkPalette(QApplication::palette()));
}

void CodeEditor::setLanguage(const QString &language)
{
    if (language == m_language && (lexer() != nullptr) == !language.isEmpty() && m_languageSet)
        return; // same lexer: keep it (and its styling) as it is
    m_languageSet = true;
    m_language = language;
    QsciLexer *old = lexer();
    QsciLexer *next = nullptr;
    int indent = 4;
    if (language == QLatin1String("python")) {
        auto *l = new QsciLexerPython(this);
        l->setIndentationWarning(QsciLexerPython::Inconsistent);
        next = l;
    } else if (language == QLatin1String("javascript")) {
        next = new QsciLexerJavaScript(this);
        indent = 2;
    } else if (language == QLatin1String("java")) {
        next = new QsciLexerJava(this);
    } else if (language == QLatin1String("powershell")) {
        next = new PowerShellLexer(this);
    } else if (language == QLatin1String("json")) {
        next = new QsciLexerJSON(this);
        indent = 2;
    }
    setLexer(next);
    // Not deleted at once: QScintilla may still reach the old lexer while this call unwinds.
    if (old)
        old->deleteLater();
    // Spaces everywhere (PEP 8, the common JavaScript/Java/PowerShell styles); the width follows the language.
    setIndentationsUseTabs(false);
    setTabWidth(indent);
    setIndentationWidth(indent);
    applyColourScheme(m_dark);
}

void CodeEditor::applyColourScheme(bool dark)
{
    m_dark = dark;
    const Scheme s = schemeFor(dark);
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    if (QsciLexer *l = lexer()) {
        l->setDefaultPaper(s.paper);
        l->setDefaultColor(s.text);
        l->setFont(mono, -1);
        l->setPaper(s.paper, -1);
        for (int style = 0; style < 128; ++style) {
            const QString d = l->description(style);
            if (!d.isEmpty())
                l->setColor(colourForStyle(d, s), style);
        }
    } else {
        setFont(mono);
    }
    setPaper(s.paper);
    setColor(s.text);
    setMarginsFont(mono);
    setMarginsBackgroundColor(s.margin);
    setMarginsForegroundColor(s.marginText);
    setFoldMarginColors(s.margin, s.margin);
    setCaretForegroundColor(s.text);
    setCaretLineBackgroundColor(s.caretLine);
    setSelectionBackgroundColor(s.selection);
    setSelectionForegroundColor(s.text);
    setMatchedBraceBackgroundColor(s.brace);
    setMatchedBraceForegroundColor(s.text);
    setIndentationGuidesBackgroundColor(s.paper);
    setIndentationGuidesForegroundColor(s.margin);
    setMarkerBackgroundColor(QColor(0xd1, 0x24, 0x2f), kErrorSymbol);
    setMarkerForegroundColor(QColor(0xd1, 0x24, 0x2f), kErrorSymbol);
    setMarkerBackgroundColor(s.errorLine, kErrorBackground);
    if (m_errorLine > 0)
        markError(m_errorLine, m_errorMessage); // the annotation style carries colours
}

void CodeEditor::markError(int line, const QString &message)
{
    clearErrors();
    if (line < 1)
        return;
    m_errorLine = line;
    m_errorMessage = message;
    // The annotation uses the one extended style allocated for this editor (QsciStyle(-1, ...) hands out
    // numbers from a process-wide counter that runs out, after which Scintilla gets an invalid style).
    const Scheme s = schemeFor(m_dark);
    const QFont font = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    const auto style = static_cast<unsigned long>(m_annotationStyle);
    SendScintilla(SCI_STYLESETFORE, style, s.errorText);
    SendScintilla(SCI_STYLESETBACK, style, s.errorPaper);
    SendScintilla(SCI_STYLESETFONT, style, font.family().toUtf8().constData());
    SendScintilla(SCI_STYLESETSIZE, style, static_cast<long>(font.pointSize() > 0 ? font.pointSize() : 10));
    markerAdd(line - 1, kErrorSymbol);
    markerAdd(line - 1, kErrorBackground);
    const QByteArray text = message.toUtf8();
    SendScintilla(SCI_ANNOTATIONSETTEXT, static_cast<unsigned long>(line - 1), text.constData());
    SendScintilla(SCI_ANNOTATIONSETSTYLE, static_cast<unsigned long>(line - 1), 0L);
}

void CodeEditor::clearErrors()
{
    m_errorLine = 0;
    m_errorMessage.clear();
    markerDeleteAll(kErrorSymbol);
    markerDeleteAll(kErrorBackground);
    clearAnnotations();
}

void CodeEditor::goToLine(int line)
{
    if (line < 1)
        return;
    setCursorPosition(line - 1, 0);
    ensureLineVisible(line - 1);
    setFocus();
}

void CodeEditor::changeEvent(QEvent *event)
{
    QsciScintilla::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange) {
        const bool dark = isDarkPalette(QApplication::palette());
        if (dark != m_dark)
            applyColourScheme(dark);
    }
}

FindBar::FindBar(CodeEditor *editor, QWidget *parent) : QWidget(parent), m_editor(editor)
{
    setObjectName(QStringLiteral("findBar"));
    auto *row = new QHBoxLayout(this);
    row->setContentsMargins(0, 2, 0, 2);
    m_find = new QLineEdit(this);
    m_find->setObjectName(QStringLiteral("findText"));
    m_find->setPlaceholderText(tr("Find"));
    m_find->setClearButtonEnabled(true);
    m_replace = new QLineEdit(this);
    m_replace->setObjectName(QStringLiteral("replaceText"));
    m_replace->setPlaceholderText(tr("Replace with"));
    m_case = new QCheckBox(tr("Match case"), this);
    m_regex = new QCheckBox(tr("Regex"), this);
    auto *nextButton = new QPushButton(tr("Next"), this);
    auto *replaceButton = new QPushButton(tr("Replace"), this);
    auto *allButton = new QPushButton(tr("Replace all"), this);
    auto *closeButton = new QToolButton(this);
    closeButton->setText(QStringLiteral("\u2715"));
    closeButton->setToolTip(tr("Close (Esc)"));
    closeButton->setAutoRaise(true);
    m_state = new QLabel(this);
    row->addWidget(m_find, 2);
    row->addWidget(nextButton);
    row->addWidget(m_replace, 2);
    row->addWidget(replaceButton);
    row->addWidget(allButton);
    row->addWidget(m_case);
    row->addWidget(m_regex);
    row->addWidget(m_state, 1);
    row->addWidget(closeButton);
    connect(m_find, &QLineEdit::returnPressed, this, &FindBar::findNext);
    connect(nextButton, &QPushButton::clicked, this, &FindBar::findNext);
    connect(replaceButton, &QPushButton::clicked, this, [this] {
        replaceOne();
        findNext();
    });
    connect(allButton, &QPushButton::clicked, this, [this] {
        const int n = replaceAll();
        m_state->setText(tr("%n replaced", nullptr, n));
    });
    connect(closeButton, &QToolButton::clicked, this, [this] {
        hide();
        m_editor->setFocus();
    });
    auto *esc = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    esc->setContext(Qt::WidgetWithChildrenShortcut);
    connect(esc, &QShortcut::activated, closeButton, &QToolButton::click);
    hide();
}

void FindBar::showFind()
{
    if (m_editor->hasSelectedText() && !m_editor->selectedText().contains(QLatin1Char('\n')))
        m_find->setText(m_editor->selectedText());
    show();
    m_find->setFocus();
    m_find->selectAll();
}

bool FindBar::findNext()
{
    if (m_find->text().isEmpty())
        return false;
    const bool found = m_editor->findFirst(m_find->text(), m_regex->isChecked(), m_case->isChecked(), false, true);
    m_state->setText(found ? QString() : tr("Not found"));
    return found;
}

bool FindBar::replaceOne()
{
    if (!m_editor->hasSelectedText() || m_editor->isReadOnly())
        return false;
    m_editor->replace(m_replace->text());
    return true;
}

int FindBar::replaceAll()
{
    if (m_find->text().isEmpty() || m_editor->isReadOnly())
        return 0;
    int n = 0;
    m_editor->beginUndoAction();
    bool found = m_editor->findFirst(m_find->text(), m_regex->isChecked(), m_case->isChecked(), false, false, true, 0, 0);
    while (found) {
        m_editor->replace(m_replace->text());
        ++n;
        found = m_editor->findNext();
    }
    m_editor->endUndoAction();
    return n;
}

} // namespace dispatch::views
