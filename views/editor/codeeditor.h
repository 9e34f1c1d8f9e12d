// The code editor of the console (QScintilla): per-language lexer, indentation rules and colours that follow the
// console theme, line numbers, folding, brace matching, build-error markers, and a find/replace bar.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <Qsci/qsciscintilla.h>

#include <QWidget>

class QLineEdit;
class QCheckBox;
class QLabel;

namespace dispatch::views {

// "python", "javascript", "java", "powershell", "json" or "" (plain text), from a file name or an image's
// language ("python3", "nodejs", ...).
QString languageForFile(const QString &path);
QString languageForRuntime(const QString &runtime);

class CodeEditor : public QsciScintilla
{
    Q_OBJECT
public:
    explicit CodeEditor(QWidget *parent = nullptr);

    void setLanguage(const QString &language); // see languageForFile()
    QString language() const { return m_language; }
    void applyColourScheme(bool dark);          // called on construction and when the console theme changes

    // A build error on `line` (1-based): a marker in the margin and the message under the line.
    void markError(int line, const QString &message);
    void clearErrors();
    int errorLine() const { return m_errorLine; } // 1-based, 0 when none
    QString errorMessage() const { return m_errorMessage; }
    void goToLine(int line); // 1-based: caret there, line visible

protected:
    void changeEvent(QEvent *event) override;

private:
    QString m_language;
    int m_errorLine = 0;
    QString m_errorMessage;
    bool m_dark = false;
    int m_annotationStyle = 0; // the extended style of build-error annotations
    bool m_languageSet = false;
};

// Find and replace for a CodeEditor (Ctrl+F shows it, Escape hides it).
class FindBar : public QWidget
{
    Q_OBJECT
public:
    explicit FindBar(CodeEditor *editor, QWidget *parent = nullptr);
    void showFind();
    bool findNext();      // from the caret, wrapping; false when nothing matches
    int replaceAll();     // returns how many were replaced
    QLineEdit *findEdit() const { return m_find; }
    QLineEdit *replaceEdit() const { return m_replace; }

private:
    bool replaceOne();
    CodeEditor *m_editor = nullptr;
    QLineEdit *m_find = nullptr;
    QLineEdit *m_replace = nullptr;
    QCheckBox *m_case = nullptr;
    QCheckBox *m_regex = nullptr;
    QLabel *m_state = nullptr;
};

} // namespace dispatch::views
