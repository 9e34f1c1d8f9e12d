// Functions: create from a file or folder, edit, run (exec dialog), delete with dependants, seed images.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcepanel.h"
#include "execdialog.h"
#include "formdialog.h"
#include "resourceview.h"
#include "runsmodel.h"

#include <QPointer>

class QPushButton;
class QLabel;

namespace dispatch::views {

class Demo;
class StatsCharts;
class ExecDialog;
class FormDialog;
class FunctionEditor;
class NewFunctionWizard;

class FunctionsView : public ResourceView
{
    Q_OBJECT
public:
    FunctionsView(Workspace *workspace, Demo *demo, QWidget *parent = nullptr);

    QAction *execAction() const { return m_exec; }
    QAction *seedAction() const { return m_seed; }
    QAction *codeAction() const { return m_code; }
    QAction *wizardAction() const { return m_wizard; }
    // The built-in editor (views/editor/) and the new-function wizard.
    FunctionEditor *openCode(const QString &function, const QString &revision = {});
    NewFunctionWizard *openWizard();
    // The dialog opened last (tests drive it); null when closed.
    FormDialog *formDialog() const { return m_form; }
    ExecDialog *execDialog() const { return m_execDialog; }
    ExecDialog *openExec(const QString &function, const QString &input = {});
    StatsCharts *statsCharts() const { return m_stats; }

public slots:

signals:
    void showRunsRequested(const QString &function);
    void runsFilterRequested(const dispatch::models::RunFilter &filter, const QString &needle);

protected:
    QList<QPair<QString, QString>> keyFields(const Json &object) const override;
    QStringList dependantsOf(const QString &name) const override;
    QString emptyText() const override;
    void currentChanged(const Json &object) override;

private:
    void openForm(const Json &existing) override;

    Demo *m_demo = nullptr;
    QAction *m_exec = nullptr;
    QAction *m_seed = nullptr;
    QAction *m_code = nullptr;
    QAction *m_wizard = nullptr;
    QPushButton *m_showRuns = nullptr;
    StatsCharts *m_stats = nullptr; // the selected function's run statistics
    QPointer<FormDialog> m_form;
    QPointer<ExecDialog> m_execDialog;
};

class FunctionsPanel : public ResourcePanel
{
    Q_OBJECT
public:
    FunctionsPanel(Workspace *workspace, Demo *demo, QWidget *parent = nullptr);
    FunctionsView *view() const { return m_view; }
    void execFunction(const QString &function, const QString &input);

signals:
    void showRunsRequested(const QString &function);
    void runsFilterRequested(const dispatch::models::RunFilter &filter, const QString &needle);

private:
    FunctionsView *m_view = nullptr;
};

} // namespace dispatch::views
